package model

import (
	"regexp"
	"strings"
)

// ContainerIdentity is what a cgroup path tells about the container and
// pod a process belongs to.
type ContainerIdentity struct {
	// Runtime is "cri-containerd", "crio", "docker", "libpod" or "" when
	// the path is a bare id.
	Runtime     string
	ContainerID string
	PodUID      string
	// QoS is the Kubernetes QoS class: "guaranteed", "burstable" or
	// "besteffort" ("" when not a pod).
	QoS string
}

var (
	scopeID    = regexp.MustCompile(`^(cri-containerd|crio|docker|libpod)-([0-9a-f]{64})\.scope$`)
	colonID    = regexp.MustCompile(`:(cri-containerd|crio|docker):([0-9a-f]{64})$`)
	bareID     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	podSystemd = regexp.MustCompile(`pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}|[0-9a-f]{32})\.slice`)
	podFS      = regexp.MustCompile(`/pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})(/|$)`)
)

// IdentifyContainer reads container and pod identity from a cgroup path,
// following the naming of kubelet (systemd and cgroupfs drivers),
// containerd's CRI plugin, CRI-O, Docker and podman (REFERENCE-IO.md 5.4).
// ok is false when the path names no container.
func IdentifyContainer(path string) (ContainerIdentity, bool) {
	var id ContainerIdentity
	elems := strings.Split(strings.TrimSuffix(path, "/"), "/")
	last := elems[len(elems)-1]
	switch {
	case scopeID.MatchString(last):
		m := scopeID.FindStringSubmatch(last)
		id.Runtime, id.ContainerID = m[1], m[2]
	case colonID.MatchString(path):
		m := colonID.FindStringSubmatch(path)
		id.Runtime, id.ContainerID = m[1], m[2]
	case bareID.MatchString(last):
		id.ContainerID = last
	}
	if m := podSystemd.FindStringSubmatch(path); m != nil {
		id.PodUID = strings.ReplaceAll(m[1], "_", "-")
	} else if m := podFS.FindStringSubmatch(path); m != nil {
		id.PodUID = m[1]
	}
	if strings.Contains(path, "kubepods") {
		switch {
		case strings.Contains(path, "burstable"):
			id.QoS = "burstable"
		case strings.Contains(path, "besteffort"):
			id.QoS = "besteffort"
		case id.PodUID != "":
			id.QoS = "guaranteed"
		}
	}
	return id, id.ContainerID != "" || id.PodUID != ""
}

var (
	// replicaSetPod is NAME-HASH-ID: a Deployment's ReplicaSet adds a
	// pod-template hash (alphanumerics without vowels), the pod a
	// five-character id.
	replicaSetPod = regexp.MustCompile(`^(.+)-[b-df-hj-np-tv-z0-9]{6,10}-[b-df-hj-np-tv-z0-9]{5}$`)
	// generatedPod is NAME-ID: a DaemonSet's or a Job's pod.
	generatedPod = regexp.MustCompile(`^(.+)-[b-df-hj-np-tv-z0-9]{5}$`)
	// ordinalPod is NAME-N: a StatefulSet's pod.
	ordinalPod = regexp.MustCompile(`^(.+)-[0-9]+$`)
)

// WorkloadOf is the owner a pod's name shows: checkout-api for a
// Deployment's checkout-api-7d9f8b6c5-x2k4p, fluentd for a DaemonSet's
// fluentd-x2k4p, db for a StatefulSet's db-2; the name itself otherwise,
// "" without one. The Kubernetes name generator draws from consonants
// and digits, which is what tells a generated suffix from a word.
func WorkloadOf(pod string) string {
	for _, re := range []*regexp.Regexp{replicaSetPod, generatedPod, ordinalPod} {
		if m := re.FindStringSubmatch(pod); m != nil {
			return m[1]
		}
	}
	return pod
}
