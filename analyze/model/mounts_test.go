package model

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/fixture"
	"github.com/iorca/iorca/internal/procfs"
)

// Source: insights-core test_init_process_cgroup (a Docker container's and
// a host's /proc/1/cgroup).
func TestIdentifyContainerInsightsFixture(t *testing.T) {
	docker, err := procfs.ParsePIDCgroup(fixture.Read(t, "insights-core/test_init_process_cgroup/CGROUP_CONTAINER.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := IdentifyContainer(docker[0].Path); !ok || id.Runtime != "docker" || !strings.HasPrefix(id.ContainerID, "55b2b88f") {
		t.Errorf("docker = %+v", id)
	}
	host, _ := procfs.ParsePIDCgroup(fixture.Read(t, "insights-core/test_init_process_cgroup/CGROUP_HOST.txt"))
	if _, ok := IdentifyContainer(host[0].Path); ok {
		t.Error("host cgroup taken for a container")
	}
}

// The Kubernetes paths REFERENCE-IO.md 5.4 quotes from kubelet, CRI-O and
// containerd.
func TestIdentifyContainerKubernetesPaths(t *testing.T) {
	for path, want := range map[string]ContainerIdentity{
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c.scope": {Runtime: "crio", ContainerID: "5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c", PodUID: "a5c1f8d5-1919-434d-add7-4afaafdaef89", QoS: "burstable"},
		"/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d/34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376":                                                         {ContainerID: "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376", PodUID: "74c13223-5a00-11e9-b385-42010a80018d", QoS: "besteffort"},
		"/system.slice/containerd.service/kubepods-besteffort-pod0125ec2f_b64a_4868_8f5b_94b56cbab864.slice:cri-containerd:ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459":    {Runtime: "cri-containerd", ContainerID: "ee4b20e90ac7f42a10bd004d05646b13d8ab5e2c5e7cbc01abf8006bac016459", PodUID: "0125ec2f-b64a-4868-8f5b-94b56cbab864", QoS: "besteffort"},
		"/kubepods-burstable-pod8daa50c3a64c9ff60bb9eab7b44b56fd.slice": {PodUID: "8daa50c3a64c9ff60bb9eab7b44b56fd", QoS: "burstable"},
	} {
		if got, ok := IdentifyContainer(path); !ok || got != want {
			t.Errorf("IdentifyContainer(%s) = %+v, want %+v", path, got, want)
		}
	}
}

// Source: open-telemetry/opentelemetry-ruby-contrib container_test.rb, a
// real /proc/self/mountinfo inside a Docker container.
func TestMountForDockerOverlayRoot(t *testing.T) {
	ms, err := procfs.ParseMountinfo(fixture.Read(t, "opentelemetry-ruby-contrib/docker_cgroupv2_self_mountinfo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	root, ok := MountFor(ms, "/var/log/nginx/access.log")
	if !ok || root.MountPoint != "/" {
		t.Fatalf("MountFor = %+v %v", root, ok)
	}
	o, _ := root.Overlay()
	up, ok := UpperPath(root, "/var/log/nginx/access.log")
	if want := o.Upper + "/var/log/nginx/access.log"; !ok || up != want {
		t.Errorf("UpperPath = %q, want %q", up, want)
	}
}

// Lines captured on this kernel (6.18) with layer names holding a space
// and '=' (REFERENCE-IO.md 6.2).
func TestMountForEscapedOverlay(t *testing.T) {
	ms, err := procfs.ParseMountinfo([]byte(`45 27 0:39 / /srv/ovl/mer\040ged rw,relatime - overlay overlay rw,lowerdir=/srv/ovl/lo\040wer:/srv/ovl/lower2,upperdir=/srv/ovl/up=per,workdir=/srv/ovl/wo\040rk,uuid=on
`))
	if err != nil {
		t.Fatal(err)
	}
	if up, _ := UpperPath(ms[0], "/srv/ovl/mer ged/a.txt"); up != "/srv/ovl/up=per/a.txt" {
		t.Errorf("UpperPath = %q", up)
	}
	if m, ok := MountFor(ms, "/srv/ovl/mer gedX/a"); ok {
		t.Errorf("MountFor matched a non-boundary prefix: %+v", m)
	}
}

func FuzzIdentifyContainer(f *testing.F) {
	f.Add("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda5c1f8d5_1919_434d_add7_4afaafdaef89.slice/crio-5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c.scope")
	f.Fuzz(func(t *testing.T, path string) {
		IdentifyContainer(path)
	})
}
