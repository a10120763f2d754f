//! The standalone binary's global allocator: a bump arena in `.bss`, falling back to the
//! system allocator once it is full.
//!
//! A one-shot sandbox lives a few milliseconds and allocates well under a megabyte (the parsed
//! policy, the mount plan, the command's environment), then exits. A general-purpose allocator
//! is pure overhead there, and with musl (the fast static build) a large one: its `mallocng`
//! maps and unmaps pages for every size class it touches, about 60 `mmap`/`munmap` calls and
//! 0.25 ms per spawn. The arena hands out memory with one atomic add; `free` only gives back
//! the most recent allocation (which makes a growing `Vec`/`String` realloc in place), and the
//! `.bss` pages cost nothing until they are touched.
//!
//! The bump pointer is an atomic, so the arena is also safe when two processes share it: the
//! one-shot supervisor and its sandbox init share one address space (`CLONE_VM`, see
//! `oneshot.rs`). Long-lived modes (the session zygote) simply move on to the system
//! allocator when the arena is used up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Arena size. Zero-initialised `.bss`: untouched pages are never backed by memory.
const SIZE: usize = 8 << 20;

/// The arena's memory, aligned for anything the arena hands out directly.
#[repr(C, align(4096))]
struct Memory(UnsafeCell<[u8; SIZE]>);

// SAFETY: disjoint ranges are handed out through the atomic bump pointer only.
unsafe impl Sync for Memory {}

static MEMORY: Memory = Memory(UnsafeCell::new([0; SIZE]));

/// A bump allocator over [`MEMORY`] with the system allocator behind it.
pub struct Arena {
    /// Offset of the first free byte in [`MEMORY`].
    next: AtomicUsize,
}

impl Arena {
    pub const fn new() -> Arena {
        Arena {
            next: AtomicUsize::new(0),
        }
    }

    fn base() -> usize {
        MEMORY.0.get() as usize
    }

    fn owns(ptr: *mut u8) -> bool {
        let p = ptr as usize;
        p >= Self::base() && p < Self::base() + SIZE
    }

    /// Reserves `layout` in the arena; None when it does not fit.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let base = Self::base();
        let mut cur = self.next.load(Ordering::Relaxed);
        loop {
            let start = (base + cur).checked_next_multiple_of(layout.align())? - base;
            let end = start.checked_add(layout.size())?;
            if end > SIZE {
                return None;
            }
            match self
                .next
                .compare_exchange_weak(cur, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some((base + start) as *mut u8),
                Err(seen) => cur = seen,
            }
        }
    }
}

impl Default for Arena {
    fn default() -> Self {
        Arena::new()
    }
}

// SAFETY: every pointer returned is either a fresh, suitably aligned, disjoint range of the
// arena or comes from `System`; pointers are given back to whichever produced them.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(p) => p,
            // SAFETY: forwarded with the caller's (valid, non-zero-size) layout.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !Self::owns(ptr) {
            // SAFETY: not ours, so System allocated it with this layout.
            unsafe { System.dealloc(ptr, layout) };
            return;
        }
        // Only the most recent allocation can be given back (a stack discipline); anything
        // else stays allocated until the process exits.
        let start = ptr as usize - Self::base();
        let _ = self.next.compare_exchange(
            start + layout.size(),
            start,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::owns(ptr) {
            // The most recent allocation grows or shrinks in place when it still fits.
            let start = ptr as usize - Self::base();
            if let Some(end) = start.checked_add(new_size)
                && end <= SIZE
                && self
                    .next
                    .compare_exchange(
                        start + layout.size(),
                        end,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return ptr;
            }
        } else {
            // SAFETY: not ours, so System allocated it with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller guarantees a valid layout for the new size.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both ranges are valid for the smaller size and do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: ptr was allocated by us with `layout`.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_reuses_the_last_block_and_falls_back() {
        let a = Arena::new();
        let l = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: valid layouts; every pointer is given back with its own layout.
        unsafe {
            let p = a.alloc(l);
            let q = a.alloc(l);
            assert!(Arena::owns(p) && Arena::owns(q));
            assert_eq!(q as usize - p as usize, 24);
            // The last block grows in place.
            let q2 = a.realloc(q, l, 100);
            assert_eq!(q2, q);
            // A block that is not the last one moves, keeping its bytes.
            p.write(7);
            let p2 = a.realloc(p, l, 200);
            assert_ne!(p2, p);
            assert_eq!(p2.read(), 7);
            // Freeing the last block makes its room available again.
            let big = Layout::from_size_align(4096, 4096).unwrap();
            let b = a.alloc(big);
            assert_eq!(b as usize % 4096, 0);
            a.dealloc(b, big);
            assert_eq!(a.alloc(big), b);
            // Too big for what is left: the system allocator takes over.
            let huge = Layout::from_size_align(SIZE, 8).unwrap();
            let h = a.alloc(huge);
            assert!(!h.is_null() && !Arena::owns(h));
            a.dealloc(h, huge);
        }
    }
}
