// Package sops recognises objects that SOPS encrypted, so aggapi can ask for them to be
// decrypted instead of reading ciphertext as broken data. It never decrypts anything.
package sops
