// Package sessiontest holds the contract tests of session stores: the
// in-memory store and session/redisstore run the same checks.
package sessiontest
