// Command composecheck loads Compose files the way `docker compose config` does (compose-go:
// the Compose specification's schema, interpolation, merge keys, dependencies between services)
// without a Docker engine or the compose plugin, and fails on the first problem. make vet runs
// it on deployments/docker-compose*.yml. It is its own module: its dependencies stay out of the
// server's go.mod.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck FILE.yml...")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		if err := check(file); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			failed = true
			continue
		}
		fmt.Printf("%s: valid\n", file)
	}
	if failed {
		os.Exit(1)
	}
}

// check loads file as a project with the environment's variables (unset ones take the file's
// defaults) and without contacting anything: images are not pulled, build contexts must exist.
func check(file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithOsEnv, cli.WithWorkingDirectory(filepath.Dir(abs)), cli.WithName("parley-check"))
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	for name, s := range p.Services {
		if s.Build != nil {
			if _, err := os.Stat(s.Build.Context); err != nil {
				return fmt.Errorf("service %s: build context: %w", name, err)
			}
			df := s.Build.Dockerfile
			if !filepath.IsAbs(df) {
				df = filepath.Join(s.Build.Context, df)
			}
			if _, err := os.Stat(df); err != nil {
				return fmt.Errorf("service %s: Dockerfile: %w", name, err)
			}
		}
	}
	return nil
}
