//! `/memory`: Envoy's `envoy.admin.v3.Memory`, from what the kernel
//! reports of the process (`/proc/self/status`). ringway's allocator
//! (mimalloc) keeps no statistics in release builds, so the figures are
//! the process's, not the allocator's:
//!
//! | field | from |
//! |---|---|
//! | `allocated` | `RssAnon`: anonymous memory resident (heap, stacks) |
//! | `heap_size` | `VmData`: data and heap mappings, resident or not |
//! | `pageheap_unmapped` | `VmData` − `RssAnon`: reserved, not resident |
//! | `pageheap_free`, `total_thread_cache` | 0 (no allocator figure) |
//! | `total_physical_bytes` | `VmRSS`: everything resident |

use envoy_types::pb::envoy::admin::v3::Memory;

/// The figures from `/proc/self/status`, or zeros where it cannot be read.
pub(crate) fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    from_status(&status)
}

fn from_status(status: &str) -> Memory {
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    };
    let allocated = kib("RssAnon");
    let heap_size = kib("VmData");
    Memory {
        allocated,
        heap_size,
        pageheap_unmapped: heap_size.saturating_sub(allocated),
        pageheap_free: 0,
        total_thread_cache: 0,
        total_physical_bytes: kib("VmRSS"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_proc_status() {
        let m = from_status("VmRSS:\t  2048 kB\nVmData:\t 10240 kB\nRssAnon:\t 1024 kB\n");
        assert_eq!(m.allocated, 1024 * 1024);
        assert_eq!(m.heap_size, 10240 * 1024);
        assert_eq!(m.pageheap_unmapped, 9216 * 1024);
        assert_eq!(m.total_physical_bytes, 2048 * 1024);
        assert!(memory().total_physical_bytes > 0);
    }
}
