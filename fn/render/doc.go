// Package render is the function: it reads the items and the AggregatedAPI config of a
// ResourceList, reuses or issues the certificates, and upserts the generated objects.
package render
