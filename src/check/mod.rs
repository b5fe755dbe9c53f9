//! Checks: pure functions that compare what a server sent with what a rule demands.
//!
//! One module per kind of check. Each returns problems as plain text (the engine
//! attaches the level and the evidence). Must never do IO and never wait.

pub mod matchers;
pub mod session_rules;
pub mod synth;
