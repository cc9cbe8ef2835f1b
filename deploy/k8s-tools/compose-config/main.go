// compose-config loads a Compose file the way `docker compose config` does, with the same library
// (github.com/compose-spec/compose-go/v2): Compose-spec JSON schema validation, interpolation,
// normalization and the consistency checks (undefined services, networks, volumes, secrets in
// references), then prints the resolved model as YAML. deploy/k8s-tools/install.sh builds it from
// the Go module proxy for machines whose docker client has no compose plugin.
//
// Usage: compose-config [--env-file FILE] [--profile NAME]... COMPOSE_FILE [OVERRIDE_FILE...]
// Exit: 0 valid (model on stdout), 1 invalid (the reason on stderr), 2 bad usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var envFiles, profiles list
	flag.Var(&envFiles, "env-file", "an environment file for interpolation (repeatable); default: .env beside the first file")
	flag.Var(&profiles, "profile", "a profile to enable (repeatable)")
	quiet := flag.Bool("quiet", false, "only validate, print nothing")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-config [--env-file FILE] [--profile NAME]... COMPOSE_FILE [OVERRIDE_FILE...]")
		os.Exit(2)
	}

	opts := []cli.ProjectOptionsFn{cli.WithOsEnv, cli.WithProfiles(profiles)}
	if len(envFiles) > 0 {
		opts = append(opts, cli.WithEnvFiles(envFiles...))
	}
	opts = append(opts, cli.WithDotEnv, cli.WithInterpolation(true), cli.WithNormalization(true), cli.WithConsistency(true), cli.WithResolvedPaths(true))
	options, err := cli.NewProjectOptions(flag.Args(), opts...)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalYAML()
	if err != nil {
		fail(err)
	}
	if !*quiet {
		os.Stdout.Write(out)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-config: %v\n", err)
	os.Exit(1)
}
