package cluster

// StopHeartbeats stops c's heartbeats and leaves its entry to expire (a node killed with -9);
// the Redis client stays open for the test's cleanup, whose Leave then finds it stopped.
func StopHeartbeats(c *Cluster) {
	c.stopOnce.Do(func() { c.stop(); <-c.done })
}
