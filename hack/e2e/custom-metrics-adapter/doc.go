// Package e2ecustommetrics is a placeholder so that this wrapper module
// contains a buildable package; see ../install.sh.
package e2ecustommetrics
