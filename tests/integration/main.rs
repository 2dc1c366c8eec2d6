//! The integration tests: every test that runs the built binary, in one test binary (as
//! ripgrep builds its integration tests), so the suite links once instead of once per file.
//! Each module is one area of behaviour; `common` holds their shared helpers.

mod common;

mod bad_input;
mod cli;
mod clients;
mod compare;
mod cpu;
mod disk;
mod faults;
mod internals;
mod io;
mod layout;
mod mixed;
mod pages;
mod process;
mod properties;
mod python;
mod scale;
mod schema;
mod signals;
mod spawn;
mod web;
