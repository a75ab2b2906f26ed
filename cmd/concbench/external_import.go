package main

// Out-of-process strategies (the Python systems) register themselves when imported.
import _ "github.com/concbench/concbench/strategies/external"
