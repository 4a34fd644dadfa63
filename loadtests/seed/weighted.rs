//! Drawing an index by weight (Zipf popularity, shares of browsers and
//! sources), shared by the seed and soak examples.

use rand::Rng;
use rand::rngs::StdRng;

/// Samples an index with the given weights.
pub struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|weight| {
                total += weight;
                total
            })
            .collect();
        Weighted { cumulative }
    }

    /// Zipf weights `1 / rank^s` for `count` ranks.
    pub fn zipf(count: usize, s: f64) -> Weighted {
        Weighted::new((1..=count).map(|rank| 1.0 / (rank as f64).powf(s)))
    }

    pub fn pick(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().expect("weights are not empty");
        let point = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&edge| edge <= point)
            .min(self.cumulative.len() - 1)
    }
}
