//! `--shard K/N`: split a run's trials across N CI jobs.
//!
//! Trial `VERSION/TRANSPORT/ID` belongs to shard `K` (1-based) of `N` when
//! `fnv1a64(trial name as UTF-8) % N == K - 1`. FNV-1a (64-bit: offset basis
//! 0xcbf29ce484222325, prime 0x100000001b3) is fixed here, so the partition is the
//! same on every machine, every run and every release that keeps the trial names: the
//! N shards together run each trial exactly once. It balances trial counts, not time.
//!
//! The runner selects trials by filters, so a shard is expressed as the exact trial
//! names it owns (intersected with the user's filters); see [`trial_filters`].

use crate::case::Case;
use crate::runner::{RunError, build_filter};
use crate::spec::{ProtocolVersion, TransportKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("a shard is K/N with 1 <= K <= N, got {s:?}");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    pub fn contains(&self, trial: &str) -> bool {
        fnv1a64(trial.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Every trial the cases could produce on `transport`, that the user's `filters`
/// select (all when empty) and that belong to `shard`: as exact-name filters for the
/// runner (glob characters escaped). Empty means the shard has nothing to run.
pub fn trial_filters(cases: &[Case], filters: &[String], transport: TransportKind, shard: Shard) -> Result<Vec<String>, RunError> {
    let user = build_filter(filters)?;
    let mut out = Vec::new();
    for case in cases {
        for version in ProtocolVersion::ALL {
            if !case.applies_to(version, transport) {
                continue;
            }
            let trial = format!("{version}/{transport}/{}", case.id);
            if user.as_ref().is_some_and(|f| !f.is_match(&case.id) && !f.is_match(&trial)) {
                continue;
            }
            if shard.contains(&trial) {
                out.push(globset::escape(&trial));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fnv_is_the_published_function() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn shards_partition_the_trials() {
        let names: Vec<String> = (0..500).map(|i| format!("2025-11-25/stdio/area/check-{i}")).collect();
        for n in 1..=5u32 {
            let mut seen = vec![0; names.len()];
            for k in 1..=n {
                let shard = Shard { index: k, count: n };
                let mine = names.iter().filter(|t| shard.contains(t)).count();
                assert!(mine > 500 / n as usize / 2, "shard {k}/{n} is too small: {mine}");
                for (i, t) in names.iter().enumerate() {
                    if shard.contains(t) {
                        seen[i] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{n} shards must cover each trial once");
        }
    }
}
