package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The files in deployments/ and the CI workflow are checked offline: they parse, they name
// only flags and PARLEY_ variables this binary has, their ports agree with the flags they pass,
// and the cluster files wire every node to the Redis and the proxy they define.

const repo = "../.."

func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(repo, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(bufio.NewReader(f))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// get walks a decoded YAML tree: keys of maps, indices of lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, stringOf(x))
	}
	return out
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// checkFlags fails t for a command-line flag or a PARLEY_ variable the server does not define.
func checkFlags(t *testing.T, where string, args []string, env map[string]string) {
	t.Helper()
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !defined(name) {
			t.Errorf("%s: flag -%s does not exist", where, name)
		}
	}
	for k := range env {
		if k == "POD_IP" {
			continue // the pod's own, for PARLEY_NODE_ADDR
		}
		name, ok := strings.CutPrefix(k, "PARLEY_")
		if !ok {
			t.Errorf("%s: environment variable %s is not the server's", where, k)
			continue
		}
		if flag := strings.ToLower(strings.ReplaceAll(name, "_", "-")); !defined(flag) {
			t.Errorf("%s: %s names no flag (-%s)", where, k, flag)
		}
	}
}

// defined reports whether the server has the flag: parsing it alone fails only with "not
// defined" when it has not.
func defined(name string) bool {
	_, err := parseConfig([]string{"-" + name + "=1"}, func(string) string { return "" })
	return err == nil || !strings.Contains(err.Error(), "not defined")
}

func argValue(args []string, flag string) string {
	i := slices.Index(args, "-"+flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func composeEnv(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = stringOf(x)
	}
	return out
}

func TestComposeSingleNode(t *testing.T) {
	if defined("no-such-flag") || !defined("redis-url") || !defined("node-addr") {
		t.Fatal("defined does not tell the server's flags")
	}
	doc := readYAML(t, "deployments/docker-compose.yml")[0]
	svc := get(doc, "services", "parley")
	if svc == nil {
		t.Fatal("no parley service")
	}
	checkFlags(t, "docker-compose.yml", nil, composeEnv(get(svc, "environment")))
	if env := composeEnv(get(svc, "environment")); env["PARLEY_REDIS_URL"] != "" {
		t.Error("the single-node file must not make a cluster")
	}
	ports := strs(get(svc, "ports"))
	if !slices.Contains(ports, "8080:8080/tcp") || !slices.Contains(ports, "8443:8443/udp") {
		t.Errorf("ports %v: want 8080/tcp and 8443/udp (the Dockerfile's defaults)", ports)
	}
}

func TestComposeCluster(t *testing.T) {
	doc := readYAML(t, "deployments/docker-compose.cluster.yml")[0]
	services, _ := get(doc, "services").(map[string]any)
	if get(services, "redis", "image") == nil || get(services, "proxy", "image") == nil {
		t.Fatal("want a redis and a proxy service")
	}
	caddy, err := os.ReadFile(filepath.Join(repo, "deployments/Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	ids, udp := map[string]bool{}, map[string]bool{}
	nodes := 0
	for name, svc := range services {
		if !strings.HasPrefix(name, "parley-") {
			continue
		}
		nodes++
		args := strs(get(svc, "command"))
		env := composeEnv(get(svc, "environment"))
		checkFlags(t, name, args, env)
		if env["PARLEY_REDIS_URL"] != "redis://redis:6379" {
			t.Errorf("%s: PARLEY_REDIS_URL %q, want the redis service", name, env["PARLEY_REDIS_URL"])
		}
		if env["PARLEY_NODE_ADDR"] != name+":8080" || argValue(args, "listen") != ":8080" {
			t.Errorf("%s: node address %q / -listen %q: the other nodes reach it at %s:8080", name, env["PARLEY_NODE_ADDR"], argValue(args, "listen"), name)
		}
		if ids[env["PARLEY_NODE_ID"]] {
			t.Errorf("%s: node id %q twice", name, env["PARLEY_NODE_ID"])
		}
		ids[env["PARLEY_NODE_ID"]] = true
		port := argValue(args, "udp-port")
		if udp[port] {
			t.Errorf("%s: UDP port %s twice: each node's media port is published on the host", name, port)
		}
		udp[port] = true
		if want := port + ":" + port + "/udp"; !slices.Contains(strs(get(svc, "ports")), want) {
			t.Errorf("%s: ports %v, want %s (the announced port is the published one)", name, strs(get(svc, "ports")), want)
		}
		if env["PARLEY_TRUST_PROXY"] != "true" {
			t.Errorf("%s: behind the proxy, PARLEY_TRUST_PROXY must be true", name)
		}
		if !strings.Contains(string(caddy), name+":8080") {
			t.Errorf("the Caddyfile does not proxy to %s", name)
		}
	}
	if nodes != 3 {
		t.Errorf("%d parley nodes, want 3", nodes)
	}
	if !strings.Contains(string(caddy), "health_uri /readyz") {
		t.Error("the proxy does not check /readyz")
	}
}

func TestKubernetes(t *testing.T) {
	for _, file := range []string{"deployments/kubernetes/parley.yaml", "deployments/kubernetes/parley-cluster.yaml"} {
		docs := readYAML(t, file)
		var redisService, parleyService bool
		for _, d := range docs {
			kind, name := stringOf(d["kind"]), stringOf(get(d, "metadata", "name"))
			if kind == "" || stringOf(d["apiVersion"]) == "" || name == "" {
				t.Errorf("%s: a document without kind, apiVersion or name", file)
			}
			if kind == "Service" {
				redisService = redisService || name == "parley-redis"
				parleyService = parleyService || name == "parley"
			}
			if kind != "Deployment" || name != "parley" {
				continue
			}
			c := get(d, "spec", "template", "spec", "containers", 0)
			args := strs(get(c, "args"))
			env := map[string]string{}
			for _, e := range get(c, "env").([]any) {
				env[stringOf(get(e, "name"))] = stringOf(get(e, "value"))
			}
			checkFlags(t, file, args, env)
			if get(c, "readinessProbe", "httpGet", "path") != "/readyz" {
				t.Errorf("%s: readiness is not /readyz", file)
			}
			udpPort, _ := strconv.Atoi(argValue(args, "udp-port"))
			media := false
			for _, p := range get(c, "ports").([]any) {
				if get(p, "protocol") == "UDP" && get(p, "containerPort") == udpPort {
					media = true
				}
			}
			if !media {
				t.Errorf("%s: no UDP container port %d for -udp-port", file, udpPort)
			}
			if strings.Contains(file, "cluster") {
				if get(d, "spec", "template", "spec", "hostNetwork") != true {
					t.Errorf("%s: media on host ports needs hostNetwork", file)
				}
				if !strings.HasPrefix(env["PARLEY_REDIS_URL"], "redis://parley-redis:") {
					t.Errorf("%s: PARLEY_REDIS_URL %q, want the parley-redis Service", file, env["PARLEY_REDIS_URL"])
				}
				if _, ok := env["PARLEY_CLUSTER_SECRET"]; !ok {
					t.Errorf("%s: no PARLEY_CLUSTER_SECRET", file)
				}
				if env["PARLEY_NODE_ADDR"] != "$(POD_IP):8080" {
					t.Errorf("%s: PARLEY_NODE_ADDR %q", file, env["PARLEY_NODE_ADDR"])
				}
			}
		}
		if !parleyService {
			t.Errorf("%s: no parley Service", file)
		}
		if strings.Contains(file, "cluster") && !redisService {
			t.Errorf("%s: no parley-redis Service", file)
		}
	}
}

func TestCIWorkflow(t *testing.T) {
	doc := readYAML(t, ".github/workflows/ci.yml")[0]
	var runs []string
	jobs, _ := get(doc, "jobs").(map[string]any)
	for _, job := range jobs {
		for _, step := range get(job, "steps").([]any) {
			runs = append(runs, stringOf(get(step, "run")))
		}
	}
	all := strings.Join(runs, "\n")
	if !regexp.MustCompile(`(?m)^make test$`).MatchString(all) {
		t.Errorf("no step runs make test: %q", runs)
	}
	if !strings.Contains(all, "docker build -f deployments/Dockerfile") {
		t.Errorf("no step builds the image: %q", runs)
	}
	df, err := os.ReadFile(filepath.Join(repo, "deployments/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "./cmd/parley") {
		t.Error("the Dockerfile does not build ./cmd/parley")
	}
}
