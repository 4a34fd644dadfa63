//! Reading the Prometheus text exposition that `/metrics` answers: every
//! sample with its labels, and the declared type of every metric family.
//!
//! Enough of the format for what the server writes (the `prometheus`
//! crate's text encoder); not a general parser.

use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

pub struct Exposition {
    pub samples: Vec<Sample>,
    /// Family name to `counter`, `gauge`, `histogram`, … from `# TYPE` lines.
    pub types: BTreeMap<String, String>,
}

impl Exposition {
    pub fn parse(text: &str) -> Exposition {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
            if let Some(declaration) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declaration
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("malformed TYPE line: {line}"));
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') {
                samples.push(parse_sample(line));
            }
        }
        Exposition { samples, types }
    }

    /// The value of the sample of `name` whose labels are exactly `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|sample| sample.name == name && sample.labels == wanted)
            .map(|sample| sample.value)
    }

    /// As `find`, panicking with the sample's name when it is absent.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in /metrics"))
    }

    /// Every value the label `label` takes on samples of `name`.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter_map(|sample| sample.labels.get(label).cloned())
            .collect()
    }

    /// Whether a query may name `metric`: a counter or gauge by its family
    /// name, a histogram only by its `_bucket`, `_sum` or `_count` series.
    pub fn exposes(&self, metric: &str) -> bool {
        match self.types.get(metric).map(String::as_str) {
            Some("histogram" | "summary") => false,
            Some(_) => true,
            None => ["_bucket", "_sum", "_count"].iter().any(|suffix| {
                metric.strip_suffix(suffix).is_some_and(|base| {
                    self.types.get(base).is_some_and(|kind| kind == "histogram")
                })
            }),
        }
    }
}

/// `name{key="value",…} value`, or `name value`.
fn parse_sample(line: &str) -> Sample {
    let (series, value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("malformed sample line: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("malformed value in: {line}")),
    };
    let Some((name, label_text)) = series.split_once('{') else {
        return Sample {
            name: series.to_owned(),
            labels: Labels::new(),
            value,
        };
    };
    let label_text = label_text
        .strip_suffix('}')
        .unwrap_or_else(|| panic!("unclosed labels in: {line}"));
    Sample {
        name: name.to_owned(),
        labels: parse_labels(label_text, line),
        value,
    }
}

fn parse_labels(text: &str, line: &str) -> Labels {
    let mut labels = Labels::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("malformed label in: {line}"));
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((index, '"')) => break index,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => panic!("dangling escape in: {line}"),
                },
                Some((_, other)) => value.push(other),
                None => panic!("unterminated label value in: {line}"),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}
