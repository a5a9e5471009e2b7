// Command fleetcopies writes N copies of the sample bundles for the fleet
// benchmark, each under its own node name and with zone and pool labels,
// through the collector's own writer (bundle.Write). The copies are
// benchmark input, not captures: the manifest's collector is renamed
// "iorca-fleetcopies" so that no one takes one for a capture.
//
//	go run ./bench/fleetcopies --from samples --nodes 1000 -o /tmp/fleet
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/spf13/pflag"
)

func main() {
	from := pflag.String("from", "samples", "directory of sample bundles")
	nodes := pflag.Int("nodes", 1000, "bundles to write")
	out := pflag.StringP("output", "o", "", "directory to write them into")
	pflag.Parse()
	if *out == "" || *nodes < 1 {
		fmt.Fprintln(os.Stderr, "fleetcopies: want -o DIR and --nodes N ≥ 1")
		os.Exit(2)
	}
	if err := run(*from, *out, *nodes); err != nil {
		fmt.Fprintln(os.Stderr, "fleetcopies:", err)
		os.Exit(1)
	}
}

func run(from, out string, nodes int) error {
	paths, err := filepath.Glob(filepath.Join(from, "*.tar.zst"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("no bundles in %s", from)
	}
	sort.Strings(paths)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	zones := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
	pools := []string{"logging", "db", "web", "batch"}
	for i := 0; i < nodes; i++ {
		src := paths[i%len(paths)]
		b, err := bundle.ReadFile(src, bundle.DefaultLimits)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		m := *b.Manifest
		m.Collector.Name = "iorca-fleetcopies"
		m.Node = fmt.Sprintf("node-%04d", i)
		m.Labels = map[string]string{"zone": zones[i%len(zones)], "pool": pools[(i/len(paths))%len(pools)]}
		var files []bundle.File
		for _, name := range b.Names() {
			data, _ := b.Member(name)
			files = append(files, bundle.BytesFile(name, data))
		}
		f, err := os.Create(filepath.Join(out, m.Node+".tar.zst"))
		if err != nil {
			return err
		}
		if err := bundle.Write(f, &m, files); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
