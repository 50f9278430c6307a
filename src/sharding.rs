//! Splitting a run's input files into shards of about equal size, deterministically: the same
//! files and shard count always give the same assignment, whatever order the files were listed
//! in, so a re-run shard reads exactly the files it read before.

/// An input file: its address and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    pub uri: String,
    pub bytes: u64,
}

/// The number of shards for `total_bytes` of input: one per `target_bytes` (rounded up), at least
/// one, at most `max_shards` and never more than there are files.
pub fn shard_count(total_bytes: u64, files: usize, target_bytes: u64, max_shards: u32) -> u32 {
    let wanted = total_bytes.div_ceil(target_bytes.max(1)).max(1);
    let cap = u64::from(max_shards.max(1)).min(files.max(1) as u64);
    wanted.min(cap) as u32
}

/// Assigns every file to one of `shards` shards (largest first, each to the least-loaded shard,
/// ties to the lower shard index), returning the files of each shard in URI order.
///
/// Greedy largest-first keeps the largest shard within 4/3 of the optimum; what matters more
/// here is that the result depends only on the set of files.
pub fn assign(files: &[InputFile], shards: u32) -> Vec<Vec<InputFile>> {
    let shards = shards.max(1) as usize;
    let mut order: Vec<&InputFile> = files.iter().collect();
    order.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.uri.cmp(&b.uri)));
    let mut load = vec![0u64; shards];
    let mut out: Vec<Vec<InputFile>> = vec![Vec::new(); shards];
    for file in order {
        let (target, _) = load.iter().enumerate().min_by_key(|&(i, &l)| (l, i)).expect("at least one shard");
        load[target] += file.bytes;
        out[target].push(file.clone());
    }
    for shard in &mut out {
        shard.sort_by(|a, b| a.uri.cmp(&b.uri));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> Vec<InputFile> {
        sizes.iter().enumerate().map(|(i, &bytes)| InputFile { uri: format!("s3://b/f{i:03}"), bytes }).collect()
    }

    #[test]
    fn shard_count_follows_bytes_within_limits() {
        assert_eq!(shard_count(0, 0, 100, 10), 1);
        assert_eq!(shard_count(100, 5, 100, 10), 1);
        assert_eq!(shard_count(101, 5, 100, 10), 2);
        assert_eq!(shard_count(10_000, 5, 100, 10), 5, "never more shards than files");
        assert_eq!(shard_count(10_000, 500, 100, 10), 10, "capped");
        assert_eq!(shard_count(10_000, 500, 0, 0), 1, "degenerate settings still give one shard");
    }

    #[test]
    fn every_file_lands_in_exactly_one_shard_and_loads_are_balanced() {
        let input = files(&[900, 10, 10, 500, 400, 300, 300, 200, 100, 100, 50, 30]);
        let shards = assign(&input, 3);
        let mut seen: Vec<&str> = shards.iter().flatten().map(|f| f.uri.as_str()).collect();
        seen.sort();
        let mut all: Vec<&str> = input.iter().map(|f| f.uri.as_str()).collect();
        all.sort();
        assert_eq!(seen, all);
        let loads: Vec<u64> = shards.iter().map(|s| s.iter().map(|f| f.bytes).sum()).collect();
        let total: u64 = loads.iter().sum();
        let largest = *loads.iter().max().unwrap();
        assert!(largest as f64 <= (total as f64 / 3.0).max(900.0) * 4.0 / 3.0, "{loads:?}");
    }

    #[test]
    fn assignment_ignores_listing_order() {
        let input = files(&[5, 5, 5, 7, 7, 1, 9, 3, 3, 3]);
        let mut reversed = input.clone();
        reversed.reverse();
        for n in [1, 2, 4, 7] {
            assert_eq!(assign(&input, n), assign(&reversed, n));
        }
        assert_eq!(assign(&input, 1)[0], input, "one shard holds everything in URI order");
    }
}
