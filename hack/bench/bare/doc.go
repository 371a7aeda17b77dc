// Command bare copies stdin to stdout: the cost of starting any Go process.
package main
