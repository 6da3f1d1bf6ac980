// Package suite runs the benchmark suite: it builds the server and client
// programs once, then for every measurement starts a fresh server process
// and a client process on loopback, drives them through the marks of
// package ctl, and collects what both report. Peers are interleaved within
// each scenario, so that a slow spell of a noisy machine hits them alike.
package suite
