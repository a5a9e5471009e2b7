package model

import (
	"regexp"
	"slices"
	"strings"
)

// Runtime components: the processes that carry a container's stdout and
// stderr (REFERENCE-IO.md 8). comm is cut at 15 bytes by the kernel.
var runtimeComms = map[string]string{
	"containerd-shim": "containerd-shim", // containerd-shim-runc-v2, -shim-runc-v1, -shim
	"containerd":      "containerd",
	"conmon":          "conmon",
	"dockerd":         "dockerd",
}

// RuntimeKind returns the runtime component a process is ("containerd-
// shim", "containerd", "conmon", "dockerd"), or "".
func (p *Process) RuntimeKind() string {
	if k, ok := runtimeComms[p.Comm]; ok {
		return k
	}
	if len(p.Cmdline) > 0 && strings.Contains(path0(p.Cmdline[0]), "containerd-shim") {
		return "containerd-shim"
	}
	return ""
}

func path0(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Serves returns the container a runtime component works for, read from
// its arguments: a containerd shim's "-namespace NS -id ID", conmon's
// "-n NAME" / "-c ID". It returns nil for containerd and dockerd, which
// serve every container (the file they write tells which).
func (p *Process) Serves() *Container {
	args := p.Cmdline
	get := func(names ...string) string {
		for i, a := range args {
			for _, n := range names {
				if a == n && i+1 < len(args) {
					return args[i+1]
				}
				if v, ok := strings.CutPrefix(a, n+"="); ok {
					return v
				}
			}
		}
		return ""
	}
	switch p.RuntimeKind() {
	case "containerd-shim":
		id := get("-id", "--id")
		if id == "" {
			return nil
		}
		return &Container{Name: id, ID: id, Runtime: "containerd", Namespace: get("-namespace", "--namespace"), Source: "shim -id"}
	case "conmon":
		id := get("-c", "--cid")
		name := get("-n", "--name")
		if id == "" && name == "" {
			return nil
		}
		if name == "" {
			name = shortID(id)
		}
		return &Container{Name: name, ID: id, Runtime: "cri-o", Source: "conmon arguments"}
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

var (
	// /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log (kubelet
	// BuildPodLogsDirectory); legacy /var/log/pods/UID/CONTAINER_N.log.
	podLogPath = regexp.MustCompile(`/var/log/pods/([^_/]+)_([^_/]+)_([0-9a-f-]{32,36})/([^/]+)/[0-9]+\.log(\.[0-9]+)?$`)
	// /var/lib/docker/containers/ID/ID-json.log (moby json-file).
	dockerLogPath = regexp.MustCompile(`/containers/([0-9a-f]{64})/[0-9a-f]{64}-json\.log(\.[0-9]+)?$`)
	// /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (kubelet links).
	containerLogLink = regexp.MustCompile(`/var/log/containers/([^_/]+)_([^_/]+)_(.+)-([0-9a-f]{64})\.log$`)
)

// ContainerOfLog is ContainerFromLogPath with the names the runtime's
// metadata in the bundle gives (Docker's name and image for an id).
func (m *Model) ContainerOfLog(p string) (*Container, bool) {
	c, ok := ContainerFromLogPath(p)
	if ok {
		m.nameContainer(c)
	}
	return c, ok
}

// ContainerServedBy is the container a runtime component serves (a
// shim's -id, conmon's -n), with the names the runtime's metadata in the
// bundle gives it.
func (m *Model) ContainerServedBy(p *Process) (*Container, bool) {
	c := p.Serves()
	if c == nil {
		return nil, false
	}
	m.nameContainer(c)
	return c, true
}

// ContainerFromLogPath names the container whose log a file is, from the
// paths kubelet and dockerd use.
func ContainerFromLogPath(p string) (*Container, bool) {
	if m := podLogPath.FindStringSubmatch(p); m != nil {
		return &Container{Name: m[4], Namespace: m[1], Pod: m[2], PodUID: m[3], Source: "Kubernetes log path"}, true
	}
	if m := containerLogLink.FindStringSubmatch(p); m != nil {
		return &Container{Name: m[3], Pod: m[1], Namespace: m[2], ID: m[4], Source: "Kubernetes log link"}, true
	}
	if m := dockerLogPath.FindStringSubmatch(p); m != nil {
		return &Container{Name: shortID(m[1]), ID: m[1], Runtime: "docker", Source: "docker json-file path"}, true
	}
	return nil, false
}

// attribute ties processes to containers: by cgroup path (kubelet, CRI,
// Docker, podman naming), and by descent from a runtime shim whose
// arguments name the container (a ctr/containerd container without
// Kubernetes keeps only "/NAMESPACE/ID" in its cgroup path).
func attribute(m *Model) {
	byPID := map[int]*Process{}
	for _, p := range m.Procs {
		byPID[p.PID] = p
	}
	served := map[int]*Container{} // shim PID -> container
	for _, p := range m.Procs {
		if c := p.Serves(); c != nil && p.RuntimeKind() != "" {
			served[p.PID] = c
		}
	}
	for _, p := range m.Procs {
		if p.Kernel {
			continue
		}
		for _, cg := range p.Cgroups {
			if id, ok := IdentifyContainer(cg.Path); ok {
				c := &Container{ID: id.ContainerID, Runtime: id.Runtime, PodUID: id.PodUID, Name: shortID(id.ContainerID), Source: "cgroup path"}
				if c.Name == "" {
					c.Name = "pod " + id.PodUID
				}
				p.Container = c
				break
			}
		}
		// Walk up the parents to a shim: the container's processes are
		// its descendants.
		seen := 0
		for q := p; q != nil && seen < 64; q, seen = byPID[q.PPID], seen+1 {
			if q == p && served[p.PID] != nil {
				break // the shim itself is not in its container
			}
			if c := served[q.PPID]; c != nil {
				if p.Container == nil {
					cc := *c
					cc.Source = "child of " + c.Source
					p.Container = &cc
				} else if p.Container.Name == shortID(p.Container.ID) {
					p.Container.Name = c.Name
				}
				break
			}
		}
	}
	for _, p := range m.Procs {
		if p.Container != nil {
			m.nameContainer(p.Container)
		}
	}
}

// Kubernetes' labels on a container it runs (dockershim, cri-dockerd).
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelContainerName = "io.kubernetes.container.name"
)

// nameContainer gives a container the names its runtime's metadata holds:
// Docker's name (checkout-api-3, not d7c6614409c2), its image, and, for a
// Kubernetes pod's container, the container, pod and namespace names
// from its labels.
func (m *Model) nameContainer(c *Container) {
	meta, ok := m.ContainerMeta[c.ID]
	if !ok {
		return
	}
	c.Image, c.Labels = meta.Image, meta.Labels
	if meta.Name != "" && (c.Name == "" || c.Name == shortID(c.ID)) {
		c.Name = meta.Name
	}
	if v := meta.Labels[labelContainerName]; v != "" {
		c.Name = v
	}
	if v := meta.Labels[labelPodName]; v != "" && c.Pod == "" {
		c.Pod = v
	}
	if v := meta.Labels[labelPodNamespace]; v != "" && c.Namespace == "" {
		c.Namespace = v
	}
	c.Source += ", named by " + meta.Source
}

// CgroupLabels name the process's cgroups in the hierarchies of the
// given v1 controllers and its v2 cgroup, each with its hierarchy, in
// /proc/PID/cgroup order: "blkio:/x" or "memory:/x" for a v1 hierarchy
// (all the controllers mounted on it), "unified:/x" for v2. A bare path
// does not say which controller's cgroup it is.
func (p *Process) CgroupLabels(controllers ...string) []string {
	var out []string
	for _, cg := range p.Cgroups {
		switch {
		case cg.HierarchyID == 0:
			out = append(out, "unified:"+cg.Path)
		case slices.ContainsFunc(controllers, func(c string) bool { return slices.Contains(cg.Controllers, c) }):
			out = append(out, strings.Join(cg.Controllers, ",")+":"+cg.Path)
		}
	}
	return out
}

// IOCgroups are the cgroups whose IO controller holds the process: its v2
// cgroup and its v1 blkio cgroup, each once, in /proc/PID/cgroup order.
func (p *Process) IOCgroups() []string {
	var out []string
	seen := map[string]bool{}
	for _, cg := range p.Cgroups {
		if (cg.HierarchyID == 0 || slices.Contains(cg.Controllers, "blkio")) && !seen[cg.Path] {
			seen[cg.Path] = true
			out = append(out, cg.Path)
		}
	}
	return out
}
