//! Linux CPU lists (`"0-1,3"`) and pinning threads to cores.

use core_affinity::CoreId;

/// Parses a Linux CPU list such as `"0-1,3"` into CPU ids, in the order given
/// (duplicates removed). Whitespace around items is ignored.
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, String> {
    let mut cpus: Vec<usize> = Vec::new();
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("empty item in CPU list {list:?}"));
        }
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (parse_cpu(lo, list)?, parse_cpu(hi, list)?),
            None => {
                let cpu = parse_cpu(item, list)?;
                (cpu, cpu)
            }
        };
        if lo > hi {
            return Err(format!("descending range {item:?} in CPU list {list:?}"));
        }
        for cpu in lo..=hi {
            if !cpus.contains(&cpu) {
                cpus.push(cpu);
            }
        }
    }
    Ok(cpus)
}

fn parse_cpu(s: &str, list: &str) -> Result<usize, String> {
    let s = s.trim();
    let cpu: usize = s
        .parse()
        .map_err(|_| format!("bad CPU number {s:?} in CPU list {list:?}"))?;
    if cpu >= 4096 {
        return Err(format!(
            "CPU number {cpu} out of range in CPU list {list:?}"
        ));
    }
    Ok(cpu)
}

/// The CPUs to run on: those of `list` when given, else the process's
/// affinity mask (falling back to the number of available CPUs, counted from
/// 0, when the mask cannot be read).
pub fn resolve(list: Option<&str>) -> Result<Vec<usize>, String> {
    if let Some(list) = list {
        return parse_cpu_list(list);
    }
    if let Some(ids) = core_affinity::get_core_ids()
        && !ids.is_empty()
    {
        return Ok(ids.into_iter().map(|c| c.id).collect());
    }
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok((0..n).collect())
}

/// Pins the calling thread to `cpu`; returns whether that worked (pinning
/// is best effort: a benchmark still runs unpinned, just noisier).
pub fn pin_current_thread(cpu: usize) -> bool {
    core_affinity::set_for_current(CoreId { id: cpu })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-1,3"), Ok(vec![0, 1, 3]));
        assert_eq!(parse_cpu_list("5"), Ok(vec![5]));
        assert_eq!(parse_cpu_list(" 2 , 0-1 ,1"), Ok(vec![2, 0, 1]));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_cpu_list("").is_err());
        assert!(parse_cpu_list("a").is_err());
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("0,,1").is_err());
        assert!(parse_cpu_list("99999").is_err());
    }

    #[test]
    fn resolves_something_without_a_list() {
        let cpus = resolve(None).unwrap_or_default();
        assert!(!cpus.is_empty());
    }
}
