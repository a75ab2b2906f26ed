package main

import "flag"

// parseInterspersed parses args with fs, letting flags follow positional
// arguments too (concbench report out/latest --units all), as a user
// typing a command expects: it parses again after each positional
// argument. It returns the positional arguments in order; "--" ends the
// flags as usual (flag.FlagSet consumes it).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
