// Package orderedjson writes JSON objects whose members keep the order
// they are given in, which encoding/json's maps do not. The introspection
// document and the examples made from it use it.
package orderedjson
