package yamlenc

// JSONNode is jsonNode for the external tests, which build manifests (fn/manifests
// imports this package, so only an external test package may import it back).
var JSONNode = jsonNode
