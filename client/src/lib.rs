//! The parts of skillc other tools build on: its command-line definitions
//! ([`cli`], from which `cargo xtask man` writes the man pages) and shell
//! completion ([`complete`]). The binary (`main.rs`) does the rest.

// Doc comments on the flags are clap's help text, written for a terminal
// (`<name>` and `[:PORT]` are placeholders there, not HTML or links).
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

pub mod cli;
pub mod complete;
