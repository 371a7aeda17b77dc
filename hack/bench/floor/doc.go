// Command floor links the same third-party packages as the aggapi function and does
// nothing else: the dependency floor, what package initialisation alone costs.
// TestFloorImportsWhatTheFunctionImports keeps the list in step with fn/cmd/aggapi.
package main
