// yaml2json reads a stream of YAML documents (what `helm template` prints) on stdin and writes
// them as one JSON array on stdout, skipping empty documents. The chart test reads the rendered
// objects through it (the repository has no YAML parser of its own). Built by
// deploy/k8s-tools/install.sh from the Go module proxy.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	in, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fail(err)
	}
	docs := []json.RawMessage{}
	for i, doc := range split(in) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			fail(fmt.Errorf("document %d: %w", i+1, err))
		}
		if string(j) == "null" {
			continue
		}
		docs = append(docs, j)
	}
	out, err := json.Marshal(docs)
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

// split cuts a stream at lines that are exactly "---".
func split(in []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(in, []byte("\n")) {
		if string(bytes.TrimRight(line, "\r\n")) == "---" {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '#' {
			continue
		}
		out = append(out, line...)
	}
	return out
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "yaml2json: %v\n", err)
	os.Exit(1)
}
