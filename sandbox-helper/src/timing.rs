//! Per-phase timestamps for `scripts/bench/sandbox-phases` (cargo feature `phase-timing`).
//!
//! Each mark writes one line, `tandem-sandbox-phase PID LABEL NANOSECONDS` (CLOCK_MONOTONIC),
//! to stderr with a single raw `write`, so it works in the cloned init (no locks, no
//! allocation) and costs nothing measurable. Without the feature `mark` is an empty inline
//! function: release builds carry no trace of it.

/// Records that the phase `label` ended now.
#[cfg(feature = "phase-timing")]
pub(crate) fn mark(label: &str) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128;
    // SAFETY: plain syscall.
    let pid = unsafe { libc::syscall(libc::SYS_getpid) };
    let mut line = [0u8; 160];
    let mut w = &mut line[..];
    let _ = std::io::Write::write_fmt(
        &mut w,
        format_args!("tandem-sandbox-phase {pid} {label} {ns}\n"),
    );
    let left = w.len();
    let _ = crate::sys::write_all(2, &line[..line.len() - left]);
}

/// Records that the phase `label` ended now (compiled out without `phase-timing`).
#[cfg(not(feature = "phase-timing"))]
#[inline(always)]
pub(crate) fn mark(_label: &str) {}
