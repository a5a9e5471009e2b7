package procfs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// Source: moby/sys mountinfo/mountinfo_linux_test.go, expected values from
// its TestParseMountInfo and the fixtures README.
func TestParseMountinfoMobyFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		entries int
		first   Mount
	}{
		{"fedoraMountinfo.txt", 58, Mount{ID: 15, ParentID: 35, Major: 0, Minor: 3, Root: "/", MountPoint: "/proc", Options: "rw,nosuid,nodev,noexec,relatime", Optional: []string{"shared:5"}, FSType: "proc", Source: "proc", SuperOptions: "rw"}},
		{"gentooMountinfo.txt", 222, Mount{ID: 15, ParentID: 1, Major: 8, Minor: 6, Root: "/", MountPoint: "/", Options: "rw,noatime,nodiratime", FSType: "ext4", Source: "/dev/sda6", SuperOptions: "rw,data=ordered"}},
		{"ubuntuMountinfo.txt", 130, Mount{ID: 15, ParentID: 20, Major: 0, Minor: 14, Root: "/", MountPoint: "/sys", Options: "rw,nosuid,nodev,noexec,relatime", FSType: "sysfs", Source: "sysfs", SuperOptions: "rw"}},
	} {
		ms, err := ParseMountinfo(fixture.Read(t, "moby-sys/mountinfo/"+tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
		if len(ms) != tc.entries {
			t.Errorf("%s: %d entries, want %d", tc.file, len(ms), tc.entries)
		}
		if len(ms) > 0 && !reflect.DeepEqual(ms[0], tc.first) {
			t.Errorf("%s: first = %+v, want %+v", tc.file, ms[0], tc.first)
		}
	}
	fed, _ := ParseMountinfo(fixture.Read(t, "moby-sys/mountinfo/fedoraMountinfo.txt"))
	sys := 0
	for _, m := range fed {
		if strings.HasPrefix(m.MountPoint, "/sys") {
			sys++
		}
	}
	if sys != 18 {
		t.Errorf("fedora: %d mounts under /sys, want 18", sys)
	}

	sp, err := ParseMountinfo(fixture.Read(t, "moby-sys/mountinfo/mountInfoWithSpaces.txt"))
	if err != nil || len(sp) != 3 {
		t.Fatalf("spaces: %d entries, %v", len(sp), err)
	}
	if sp[0].MountPoint != "/mnt/foo bar" {
		t.Errorf("mount point %q", sp[0].MountPoint)
	}
	if sp[1].Source != "//foo/BLA BLA BLA/" || sp[1].SuperOptions != `rw,sec=ntlm,cache=loose,unc=\\foo\BLA` {
		t.Errorf("cifs source %q super %q", sp[1].Source, sp[1].SuperOptions)
	}
	if want := "/tmp/newline\ntab\tspace backslash\\quote1'quote2\""; sp[2].Root != want || sp[2].MountPoint != want {
		t.Errorf("escapes: root %q mp %q", sp[2].Root, sp[2].MountPoint)
	}
}

// Source: kubernetes/mount-utils mount_helper_unix_test.go TestParseMountInfo.
func TestParseMountinfoKubernetesFixture(t *testing.T) {
	ms, err := ParseMountinfo(fixture.Read(t, "kubernetes-mount-utils/mount_helper_unix_test/TestParseMountInfo.mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int]Mount{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	m := byID[189]
	if m.ParentID != 80 || m.Major != 8 || m.Minor != 1 || m.Root != "/var/lib/kubelet" || m.Source != "/dev/sda1" ||
		m.MountPoint != "/var/lib/kubelet" || !reflect.DeepEqual(m.Optional, []string{"shared:30"}) || m.FSType != "ext4" {
		t.Errorf("189 = %+v", m)
	}
	if got := SplitOptions(byID[189].SuperOptions); !reflect.DeepEqual(got, []string{"rw", "commit=30", "data=ordered"}) {
		t.Errorf("189 super = %q", got)
	}
	if got := byID[224].Optional; !reflect.DeepEqual(got, []string{"master:1", "shared:44"}) {
		t.Errorf("224 optional = %q", got)
	}
	want761 := []string{"rw", `context="system_u:object_r:container_file_t:s0:c314,c894"`, "data=ordered"}
	if got := SplitOptions(byID[761].SuperOptions); !reflect.DeepEqual(got, want761) {
		t.Errorf("761 super = %q, want %q", got, want761)
	}
}

// Source: open-telemetry/opentelemetry-ruby-contrib container_test.rb, a
// real /proc/self/mountinfo inside a Docker container.
func TestParseMountinfoDockerOverlayRoot(t *testing.T) {
	ms, err := ParseMountinfo(fixture.Read(t, "opentelemetry-ruby-contrib/docker_cgroupv2_self_mountinfo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var root Mount
	for _, m := range ms {
		if m.MountPoint == "/" {
			root = m
		}
	}
	o, ok := root.Overlay()
	if !ok || len(o.Lower) != 11 || !strings.HasSuffix(o.Upper, "/diff") || !strings.HasSuffix(o.Work, "/work") {
		t.Fatalf("overlay = %+v", o)
	}
}

// Lines captured on this kernel (6.18) with layer names holding a space,
// '=', ',', a tab and ':' (REFERENCE-IO.md 6.2).
func TestOverlayEscapes(t *testing.T) {
	in := `45 27 0:39 / /srv/ovl/mer\040ged rw,relatime - overlay overlay rw,lowerdir=/srv/ovl/lo\040wer:/srv/ovl/lower2,upperdir=/srv/ovl/up=per,workdir=/srv/ovl/wo\040rk,uuid=on
49 27 0:41 / /srv/ovl/m2 rw,relatime - overlay none rw,lowerdir+=/srv/ovl/a:b,lowerdir+=/srv/ovl/c\054d,upperdir=/srv/ovl/tab\011x,workdir=/srv/ovl/w2,uuid=on
52 27 0:43 / /srv/ovl/m3 rw,relatime - overlay ovlsrc ro,lowerdir=/srv/ovl/a\134:b:/srv/ovl/lower2,redirect_dir=on
`
	ms, err := ParseMountinfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Overlay{
		{Lower: []string{"/srv/ovl/lo wer", "/srv/ovl/lower2"}, Upper: "/srv/ovl/up=per", Work: "/srv/ovl/wo rk"},
		{Lower: []string{"/srv/ovl/a:b", "/srv/ovl/c,d"}, Upper: "/srv/ovl/tab\tx", Work: "/srv/ovl/w2"},
		{Lower: []string{"/srv/ovl/a:b", "/srv/ovl/lower2"}},
	}
	for i, m := range ms {
		o, _ := m.Overlay()
		if !reflect.DeepEqual(o, want[i]) {
			t.Errorf("line %d overlay = %#v, want %#v", i+1, o, want[i])
		}
	}
}

func TestParseMountinfoBadLines(t *testing.T) {
	in := "hello\n" +
		"251 15 0:3573 / /mnt/point rw,relatime - aufs none rw\n" +
		"251 15 0:3573 / /mnt/point rw,relatime aufs none rw\n" +
		"251 15 0:3573 / /mnt/point rw,relatime - aufs none\n" +
		"279 23 0:108 / /tmp/bb rw,relatime - tmpfs  rw\n" +
		"225 20 0:39 / /run/user/112 rw,nosuid,nodev,relatime  - tmpfs tmpfs rw,size=405096k\n" +
		"454 29 0:87 / /with/a-hyphen rw,relatime shared:255 - cifs //remote-storage/Path rw,vers=3.1.1\n"
	ms, err := ParseMountinfo([]byte(in))
	if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("err = %v, want lines 1, 3 and 4 reported", err)
	}
	if len(ms) != 4 {
		t.Fatalf("%d good mounts, want 4: %+v", len(ms), ms)
	}
	if ms[1].Source != "" || ms[1].FSType != "tmpfs" {
		t.Errorf("empty source: %+v", ms[1])
	}
	if ms[2].Optional != nil || ms[3].MountPoint != "/with/a-hyphen" {
		t.Errorf("optional %q, hyphen %q", ms[2].Optional, ms[3].MountPoint)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`a\040b`: "a b", `\12`: `\12`, `\134`: `\`, `/\1345`: `/\5`, `\177`: "\x7f", `\x`: `\x`, `\400`: `\400`, `end\`: `end\`,
	} {
		if got := UnescapeOctal(in); got != want {
			t.Errorf("UnescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseMountinfo(f *testing.F) {
	addTestdataSeeds(f, "holder/proc/25066/mountinfo", "docker/proc/26447/mountinfo")
	f.Add([]byte(`45 27 0:39 / /srv/ovl/mer\040ged rw,relatime - overlay overlay rw,lowerdir=/srv/ovl/lo\040wer:/srv/ovl/lower2,upperdir=/srv/ovl/up=per,workdir=/srv/ovl/wo\040rk,uuid=on` + "\n"))
	f.Add([]byte("1 1 0:5 /  /root rw,nosuid shared:8 - rootfs rootfs rw\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, _ := ParseMountinfo(b)
		for _, m := range ms {
			m.Overlay()
			m.Overlay()
		}
	})
}
