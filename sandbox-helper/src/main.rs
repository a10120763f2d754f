//! The standalone `tandem-sandbox` binary: it only calls the library's `run_main_from`.
//! `no_main` skips Rust's runtime start-up (its main-thread stack probing parses
//! /proc/self/maps), about 0.1 ms of every sandboxed spawn. The arguments are taken from C's
//! `main` because only glibc hands them to Rust's start-up code too: with musl (the fast
//! static build, see docs/sandbox.md) `std::env::args_os` is empty under `no_main`.
#![cfg_attr(not(test), no_main)]

mod arena;

/// A bump arena instead of malloc: see `arena.rs` (the library, used by the kernel through the
/// arg0 trick, leaves the kernel's allocator alone).
#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena::new();

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    use std::os::unix::ffi::OsStrExt;
    let args = (0..usize::try_from(argc).unwrap_or(0)).filter_map(|i| {
        // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings in `argv`.
        let arg = unsafe { *argv.add(i) };
        (!arg.is_null()).then(|| {
            // SAFETY: non-null and NUL-terminated (see above); copied before main returns.
            let bytes = unsafe { std::ffi::CStr::from_ptr(arg) }.to_bytes();
            std::ffi::OsStr::from_bytes(bytes).to_os_string()
        })
    });
    tandem_sandbox::run_main_from(args)
}
