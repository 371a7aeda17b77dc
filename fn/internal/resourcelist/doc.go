// Package resourcelist reads the ResourceList a KRM function gets on stdin and writes
// the one it gives back, in place of kyaml's kio.ByteReadWriter.
//
// It exists for memory and time on large inputs, which users feel when a GitOps repo
// passes thousands of objects through the function (CONTRIBUTING.md, "Speed", has the
// current figures and how to measure them). With kyaml's reader and writer, 10,000
// ordinary Deployments (8.6 MB) took 2.6-4.1 s, 2.0 s of CPU and 1.7 GB of RSS, and
// 50,000 took 12-21 s and 7.5-8.8 GB: yaml.v3's emitter keeps every event of a document
// until it ends and ByteWriter writes the whole list as one document after deep-copying
// every item; the reader's alias handling copied every mapping. With this package (and
// the GC policy of fn/cli) the same inputs take 0.63 s and 196 MB, and 3.9 s and 945 MB:
// items are written one at a time on every core and released once written, and items
// passed through are written back as the text they were read from.
//
// What it promises relative to kyaml (the kyaml v0.21.2 ByteReadWriter with
// OmitReaderAnnotations and KeepReaderAnnotations, what the function used before):
//
//   - Where kyaml reads an input and Parse accepts it, the items and the functionConfig
//     decode (aliases and merge keys resolved) to the same values as kyaml's, and the
//     wrapping kind and apiVersion are the same. Input results are not kept (the
//     function writes its own).
//   - What Write writes, kyaml reads back to those same values. Items given without raw
//     text are written in the bytes ByteWriter writes (TestWriteResourceListMatchesKyaml),
//     with one exception: ByteWriter drops a metadata.annotations, and then a metadata,
//     that is empty, null or a scalar; Write keeps what it was given.
//     A key that is an empty null (`: x`, `&a : x`) and an empty null in a flow
//     collection (`{a}`) are written as null: yaml.v3's emitter, kyaml's writer with it,
//     writes them as a quoted empty string, which reads back as "".
//   - Items passed through are written as their input text (comments and layout kept),
//     re-indented when the list was; kyaml re-encodes them.
//
// Deliberate differences in what is read:
//
//   - Aliases are resolved and anchors dropped, so each item stands alone.
//   - A ResourceList followed or preceded by empty documents (a trailing ---) is
//     unwrapped; kyaml unwraps only a lone document and would pass the whole list
//     through as one item.
//   - A \r that is not part of \r\n is a line break, as YAML says: \r--- starts a
//     document, and \r\r\n is two breaks. kyaml replaces \r\n with \n before parsing
//     and splits documents at \n--- only.
//   - A line that starts with --- and goes on with something other than a space or a
//     tab (---#0) is text, as YAML says; kyaml splits documents there.
//   - Every document of the stream is read. kyaml splits the text at --- lines and
//     decodes only the first document of each part: a document after a ... end marker
//     is dropped without a word.
//
// Refused where kyaml reads the input (each names the line):
//
//   - a stream that is not valid YAML as a whole: kyaml never parses what follows the
//     first document of a part (`[]00` reads as an empty list);
//   - a key that appears twice in one mapping of an item or of the list itself (the
//     functionConfig's keys are left to its loader, which names their field paths);
//   - a mapping key that is not a scalar;
//   - aliases that expand the input past twice its parsed size plus 100,000 nodes
//     (a functionConfig past it is left unresolved for its loader to refuse), and an
//     alias inside the node its anchor names;
//   - nesting deeper than MaxDepth, aliases expanded;
//   - a node whose explicit tag does not decode (`!!int abc`), or that go-yaml cannot
//     write back as itself (`!%21` is the tag "!!", written as a tag with no name);
//   - a merge key << whose value is not a mapping or a list of mappings;
//   - `items` that is not a list (kyaml takes a mapping's keys and values as items).
//
// An input larger than MaxInputBytes is refused before it is parsed.
//
// FuzzParseMatchesKyaml holds all of this to kyaml (make fuzz), seeded with every
// golden input and hand-written lists with comments, flow style, anchors and tags;
// TestParseMatchesKyamlOnGoldens runs its check over every golden input.
package resourcelist
