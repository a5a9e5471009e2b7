package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
)

// DefaultDockerRoot is dockerd's default data root.
const DefaultDockerRoot = "/var/lib/docker"

// dockerCgroup finds a Docker container's id in a /proc/PID/cgroup line:
// docker-ID.scope (systemd driver) or /docker/ID (cgroupfs driver).
var dockerCgroup = regexp.MustCompile(`(?m)(?:/docker/|docker-)([0-9a-f]{64})(?:\.scope)?(?:/|$)`)

// maxContainers and maxConfigBytes bound what is read of the runtime's
// metadata.
const (
	maxContainers  = 1000
	maxConfigBytes = 4 << 20
)

// dockerConfig is the part of config.v2.json the bundle keeps. Env is
// not decoded: it holds secrets, and nothing of it enters the bundle.
type dockerConfig struct {
	Name   string `json:"Name"`
	Config struct {
		Image  string            `json:"Image"`
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
}

// captureContainers names the Docker containers the sampled processes ran
// in, from dockerd's own files: a container named checkout-api-3 on the
// node is reported by that name, not by its id.
func (c *collection) captureContainers() {
	ids := map[string]bool{}
	for _, e := range c.table.entries {
		for f, err := range bundle.Frames(e.frames) {
			if err != nil {
				break
			}
			if !strings.HasSuffix(f.Path, "/cgroup") || f.Status != bundle.StatusOK {
				continue
			}
			for _, m := range dockerCgroup.FindAllSubmatch(f.Data, -1) {
				ids[string(m[1])] = true
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	root := c.cfg.DockerRoot
	if root == "" {
		root = DefaultDockerRoot
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	if len(sorted) > maxContainers {
		c.bound(bundle.Bound{Name: "containers", Limit: maxContainers, What: fmt.Sprintf("%d containers hold processes; the first %d by id are named", len(sorted), maxContainers)})
		sorted = sorted[:maxContainers]
	}
	metas := []bundle.ContainerMeta{}
	for _, id := range sorted {
		path := filepath.Join(root, "containers", id, "config.v2.json")
		cfg, err := readDockerConfig(path)
		if err != nil {
			c.ledger.sweepRead("container-meta", path, 0, capture.Classify(err), err)
			continue
		}
		c.ledger.sweepRead("container-meta", path, 0, bundle.StatusOK, nil)
		metas = append(metas, bundle.ContainerMeta{ID: id, Runtime: "docker", Name: strings.TrimPrefix(cfg.Name, "/"),
			Image: cfg.Config.Image, Labels: cfg.Config.Labels, Source: path})
	}
	data, _ := json.MarshalIndent(metas, "", "  ")
	c.store.put(bundle.ContainersMember, append(data, '\n'))
}

func readDockerConfig(path string) (*dockerConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s: over %d MiB", path, maxConfigBytes>>20)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &cfg, nil
}
