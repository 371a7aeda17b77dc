package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// finding is what vulncheck reads of one govulncheck finding.
type finding struct {
	OSV   string `json:"osv"`
	Fixed string `json:"fixed_version"`
	Trace []struct {
		Module   string `json:"module"`
		Function string `json:"function"`
	} `json:"trace"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: govulncheck -format json ./... | vulncheck ALLOW_FILE")
		os.Exit(2)
	}
	allowed, err := readAllow(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulncheck: %v\n", err)
		os.Exit(2)
	}
	called, err := calledFindings(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vulncheck: reading govulncheck's output: %v\n", err)
		os.Exit(2)
	}
	os.Exit(report(os.Stdout, called, allowed))
}

// readAllow reads lines "GO-YYYY-NNNN <fixed in> <reason...>"; # starts a comment.
func readAllow(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	allowed := map[string]string{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.HasPrefix(fields[0], "GO-") {
			return nil, fmt.Errorf("%s:%d: want \"GO-YYYY-NNNN <fixed in> <reason>\", got %q", path, n, line)
		}
		allowed[fields[0]] = strings.Join(fields[1:], " ")
	}
	return allowed, s.Err()
}

// calledFindings are the IDs of the findings whose trace reaches a function: the
// vulnerabilities the code calls, not those it only imports or requires.
func calledFindings(r io.Reader) (map[string]string, error) {
	called := map[string]string{}
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			return called, nil
		}
		if err != nil {
			return nil, err
		}
		if f := msg.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			called[f.OSV] = f.Trace[0].Module + ", fixed in " + f.Fixed
		}
	}
}

// report prints each called finding and returns 1 if one is not allowed.
func report(w io.Writer, called, allowed map[string]string) int {
	code := 0
	ids := make([]string, 0, len(called))
	for id := range called {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if why, ok := allowed[id]; ok {
			fmt.Fprintf(w, "accepted %s (%s): %s\n", id, called[id], why)
			continue
		}
		fmt.Fprintf(w, "FAIL %s (%s): the code calls it; fix it, or name it in the allow file with the reason\n", id, called[id])
		code = 1
	}
	for id := range allowed {
		if _, ok := called[id]; !ok {
			fmt.Fprintf(w, "note: %s is no longer found: drop it from the allow file\n", id)
		}
	}
	fmt.Fprintf(w, "govulncheck: %d called vulnerabilities, %d accepted with a reason\n", len(called), len(called)-failed(called, allowed))
	return code
}

func failed(called, allowed map[string]string) int {
	n := 0
	for id := range called {
		if _, ok := allowed[id]; !ok {
			n++
		}
	}
	return n
}
