// Command aggapi-doctor checks a live cluster for an aggregated API; `aggapi doctor`
// runs it. It is a binary of its own so that client-go stays out of the KRM function
// (its package initialisation would cost every function run ~13 ms).
package main
