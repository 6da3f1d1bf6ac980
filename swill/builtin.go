package swill

// builtinHandlers returns swill.introspect and swill.describe.
// PLACEHOLDER until introspection lands.
func builtinHandlers(s *Server) []*Handler { return nil }
