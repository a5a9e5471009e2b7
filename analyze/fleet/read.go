package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/iorca/iorca/internal/safefile"
	"github.com/iorca/iorca/report"
	"github.com/iorca/iorca/report/content"
)

// maxReportBytes bounds a JSON report read from a file: a report is tens
// of KiB; a larger file is not one.
const maxReportBytes = 64 << 20

// pathError names the path the user gave once, then what failed: an
// *fs.PathError's own text repeats it after the operation ("stat /x").
// Under a directory given, the entry that failed is named.
func pathError(arg string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return fmt.Errorf("%s: %w", arg, err)
}

// Inputs expands the arguments into the files to read: a directory gives
// every bundle (*.tar.zst) and JSON report (*.json) under it, sorted; a
// file is taken as given. A path that does not exist is an error. Names
// are taken whatever their type: Read opens only regular files and lists
// a FIFO or a device as unreadable, with its type.
func Inputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, pathError(a, err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p != a && strings.HasPrefix(name, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, ".tar.zst") || strings.HasSuffix(name, ".json") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, pathError(a, err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// IsReport says whether a path is read as a JSON report rather than a
// bundle.
func IsReport(path string) bool { return strings.HasSuffix(path, ".json") }

// Read reads every input, workers at a time, into its node (NodeOf): a
// JSON report is parsed into its content (report.ParseJSON), a bundle is
// turned into its report's content by analyze. Memory is bounded by the
// workers: each holds one bundle's model at a time, and what is kept of
// an input is its node. An input that cannot be read is one
// FleetUnreadable, never the end of the run; the nodes keep the inputs'
// order. progress, when set, is called after each input with how many
// are done and how many were unreadable.
func Read(paths []string, workers int, analyze func(path string) (*content.Report, error), progress func(done, total, bad int)) ([]*content.FleetNode, []content.FleetUnreadable) {
	workers = max(1, min(workers, len(paths)))
	type result struct {
		i    int
		node *content.FleetNode
		err  error
	}
	jobs := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				n, err := readOne(paths[i], analyze)
				results <- result{i, n, err}
			}
		}()
	}
	go func() {
		for i := range paths {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	nodes := make([]*content.FleetNode, len(paths))
	var bad []content.FleetUnreadable
	done := 0
	for r := range results {
		done++
		if r.err != nil {
			bad = append(bad, content.FleetUnreadable{Source: paths[r.i], Error: r.err.Error()})
		} else {
			nodes[r.i] = r.node
		}
		if progress != nil {
			progress(done, len(paths), len(bad))
		}
	}
	out := nodes[:0]
	for _, n := range nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out, bad
}

func readOne(path string, analyze func(string) (*content.Report, error)) (*content.FleetNode, error) {
	if IsReport(path) {
		data, err := safefile.ReadFile(path, maxReportBytes)
		if errors.Is(err, safefile.ErrTooLarge) {
			return nil, fmt.Errorf("over %d MiB: not a report", maxReportBytes>>20)
		}
		if err != nil {
			return nil, err
		}
		rc, err := report.ParseJSON(data)
		if err != nil {
			return nil, err
		}
		return NodeOf(path, rc), nil
	}
	rc, err := analyze(path)
	if err != nil {
		return nil, err
	}
	return NodeOf(path, rc), nil
}
