//! The standalone `tandem-sandbox` binary: it only calls the library's `run_main`.
//! `no_main` skips Rust's runtime start-up (its main-thread stack probing parses
//! /proc/self/maps), about 0.1 ms of every sandboxed spawn; `std::env::args_os` still works.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    tandem_sandbox::run_main()
}
