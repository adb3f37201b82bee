//! The global allocator: the system allocator, asking the kernel for transparent huge pages
//! on the few very large blocks.
//!
//! A symbolic run over a 30 MB pickle builds arenas of tens of MB (value nodes, memo). With
//! 4 KiB pages every first touch is a page fault: about a third of the run's time. Huge pages
//! (2 MiB) cut those faults 512-fold. Linux applies them only where asked (`madvise` mode is the
//! common default), so blocks of 8 MiB and more are advised; everything else is untouched.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised to use huge pages.
const HUGE_BLOCK: usize = 8 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// The allocator: `System`, with huge pages advised on blocks of 8 MiB and more.
pub struct HugePageAlloc;

fn advise(ptr: *mut u8, size: usize) {
    if size < HUGE_BLOCK || ptr.is_null() {
        return;
    }
    // Only whole 2 MiB pages inside the block can be huge; advise that aligned middle part.
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize + size) & !(HUGE_PAGE - 1);
    if end > start {
        #[cfg(target_os = "linux")]
        #[allow(unsafe_code, reason = "madvise is a hint on memory this block owns")]
        // SAFETY: [start, end) lies inside the block just returned by the system allocator,
        // which this process owns; MADV_HUGEPAGE changes no contents, only how pages are
        // backed, and its failure is harmless (the block keeps 4 KiB pages).
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[allow(
    unsafe_code,
    reason = "a GlobalAlloc is unsafe by definition; this one delegates to System"
)]
// SAFETY: every method forwards to `System` with the caller's arguments unchanged; `advise`
// only hints the kernel about memory `System` just handed out.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}
