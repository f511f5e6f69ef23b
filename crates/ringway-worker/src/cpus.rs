//! CPU lists (`0-3,6`) and the process's affinity mask.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSetError(pub String);

impl fmt::Display for CpuSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid CPU list: {}", self.0)
    }
}

impl std::error::Error for CpuSetError {}

/// Parses a Linux CPU list such as `0-3,6,8-9` (sorted, without duplicates).
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, CpuSetError> {
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || CpuSetError(format!("{part:?} is not a CPU number or range"));
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.trim().parse().map_err(|_| bad())?;
                let b: usize = b.trim().parse().map_err(|_| bad())?;
                if a > b || b - a > 4096 {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    if cpus.is_empty() {
        return Err(CpuSetError(format!("{list:?} names no CPU")));
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// The CPUs this process may run on (its affinity mask, which honours a
/// restricted cpuset), or `None` when it cannot be read.
pub fn affinity_cpus() -> Option<Vec<usize>> {
    let ids = core_affinity::get_core_ids()?;
    let mut cpus: Vec<usize> = ids.into_iter().map(|c| c.id).collect();
    cpus.sort_unstable();
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(parse_cpu_list("0-1"), Ok(vec![0, 1]));
        assert_eq!(parse_cpu_list("3,0-2,2"), Ok(vec![0, 1, 2, 3]));
        assert!(parse_cpu_list("").is_err());
        assert!(parse_cpu_list("2-1").is_err());
        assert!(parse_cpu_list("a").is_err());
    }

    #[test]
    fn affinity_is_readable_here() {
        assert!(affinity_cpus().is_some_and(|c| !c.is_empty()));
    }
}
