//! Invariants of the kernels on small random collections: mass conservation, rows that
//! sum to 1, and results that do not depend on the number of threads.

use attartm_core::{
    artm_estep, attentive_estep, bag_of_words, linear_theta, thetaless_estep, AttentiveParams,
    ClassicParams, Documents, Error, Filter, Output, Variant,
};

/// A small deterministic generator (no dependency needed for test data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f32) as usize).min(n - 1)
    }
}

struct Case {
    words: Vec<u32>,
    offsets: Vec<i64>,
    phi: Vec<f32>,
    n_t: Vec<f32>,
    n_words: usize,
    n_topics: usize,
}

fn case(seed: u64, n_docs: usize, max_len: usize, n_words: usize, n_topics: usize) -> Case {
    let mut rng = Lcg(seed);
    let mut offsets = vec![0i64];
    let mut words = Vec::new();
    for _ in 0..n_docs {
        let len = rng.below(max_len + 1);
        words.extend((0..len).map(|_| rng.below(n_words) as u32));
        offsets.push(words.len() as i64);
    }
    let mut phi: Vec<f32> = (0..n_words * n_topics).map(|_| rng.next() + 1e-3).collect();
    for t in 0..n_topics {
        let s: f32 = (0..n_words).map(|w| phi[w * n_topics + t]).sum();
        (0..n_words).for_each(|w| phi[w * n_topics + t] /= s);
    }
    let n_t = (0..n_topics).map(|_| 1.0 + 10.0 * rng.next()).collect();
    Case {
        words,
        offsets,
        phi,
        n_t,
        n_words,
        n_topics,
    }
}

fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(work)
}

fn params(c: &Case) -> (Vec<f32>, Vec<f32>) {
    let n = c.words.len();
    let gf = (0..n).map(|i| if i % 7 == 3 { 0.0 } else { 0.2 }).collect();
    let gb = (0..n)
        .map(|i| if i % 5 == 1 { 1.0 } else { 0.05 })
        .collect();
    (gf, gb)
}

#[test]
fn classic_estep_conserves_mass_and_normalizes_theta() {
    let c = case(1, 40, 60, 30, 5);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let p = ClassicParams {
        doc_passes: 6,
        theta_term: None,
    };
    let out = artm_estep(&docs, &c.phi, c.n_topics, &p).unwrap();
    let total: f64 = out.n_wt.iter().sum();
    assert!((total - c.words.len() as f64).abs() < 1e-3);
    for row in out.theta.chunks(c.n_topics) {
        let s: f32 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }
}

#[test]
fn bag_of_words_gives_the_same_classic_estep() {
    let c = case(2, 30, 80, 12, 4);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (bo, bw, bc) = bag_of_words(&docs);
    let bow = Documents::new(&bw, Some(&bc), &bo, c.n_words).unwrap();
    let p = ClassicParams {
        doc_passes: 4,
        theta_term: Some(vec![0.1, -0.2, 0.0, 0.3]),
    };
    let a = artm_estep(&docs, &c.phi, c.n_topics, &p).unwrap();
    let b = artm_estep(&bow, &c.phi, c.n_topics, &p).unwrap();
    for (x, y) in a.theta.iter().zip(&b.theta) {
        assert!((x - y).abs() < 1e-5);
    }
    for (x, y) in a.n_wt.iter().zip(&b.n_wt) {
        assert!((x - y).abs() < 1e-4);
    }
}

#[test]
fn every_kernel_gives_the_same_bits_on_one_and_three_threads() {
    // Long enough for many chunks, so the merge really runs in parallel.
    let c = case(3, 600, 400, 300, 8);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let run = || {
        let classic = artm_estep(
            &docs,
            &c.phi,
            c.n_topics,
            &ClassicParams {
                doc_passes: 3,
                theta_term: None,
            },
        )
        .unwrap();
        let ap = AttentiveParams {
            gamma_forward: &gf,
            gamma_backward: &gb,
            reset: None,
            beta: 0.4,
            passes: 2,
            exclude_self: true,
            filter: Filter::POverNt,
        };
        let att = attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::Tokens, true).unwrap();
        let tl = thetaless_estep(&docs, &c.phi, &c.n_t, Variant::Full).unwrap();
        (classic.theta, classic.n_wt, att.values, att.n_wt, tl)
    };
    let one = on_threads(1, run);
    let three = on_threads(3, run);
    assert!(one == three);
}

#[test]
fn attentive_rows_sum_to_one_and_mass_is_conserved() {
    let c = case(4, 25, 50, 20, 6);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    for filter in [Filter::POverNt, Filter::Phi] {
        for exclude_self in [true, false] {
            let ap = AttentiveParams {
                gamma_forward: &gf,
                gamma_backward: &gb,
                reset: None,
                beta: 0.5,
                passes: 3,
                exclude_self,
                filter,
            };
            let out = attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::Tokens, true).unwrap();
            for row in out.values.chunks(c.n_topics) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
            let total: f64 = out.n_wt.unwrap().iter().sum();
            assert!((total - c.words.len() as f64).abs() < 1e-3);
        }
    }
}

#[test]
fn attentive_top_k_agrees_with_the_token_rows() {
    let c = case(5, 10, 30, 15, 7);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let (gf, gb) = params(&c);
    let ap = AttentiveParams {
        gamma_forward: &gf,
        gamma_backward: &gb,
        reset: None,
        beta: 0.5,
        passes: 2,
        exclude_self: true,
        filter: Filter::POverNt,
    };
    let rows = attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::Tokens, false).unwrap();
    let top = attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::TopK(3), false).unwrap();
    for (row, best) in rows.values.chunks(7).zip(top.values.chunks(6)) {
        let mut order: Vec<usize> = (0..7).collect();
        order.sort_by(|&a, &b| row[b].partial_cmp(&row[a]).unwrap().then(a.cmp(&b)));
        for j in 0..3 {
            assert_eq!(best[j] as usize, order[j]);
            assert_eq!(best[3 + j], row[order[j]]);
        }
    }
    assert!(matches!(
        attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::TopK(8), false),
        Err(Error::Value(_))
    ));
}

#[test]
fn attentive_rejects_bad_coefficients() {
    let c = case(6, 3, 5, 4, 2);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let n = c.words.len();
    let good = vec![0.5f32; n];
    let nan = vec![f32::NAN; n];
    let short = vec![0.5f32; n.saturating_sub(1)];
    for (gf, beta, passes) in [
        (&nan, 0.5, 1),
        (&short, 0.5, 1),
        (&good, 1.5, 1),
        (&good, 0.5, 0),
    ] {
        let ap = AttentiveParams {
            gamma_forward: gf,
            gamma_backward: &good,
            reset: None,
            beta,
            passes,
            exclude_self: true,
            filter: Filter::Phi,
        };
        assert!(attentive_estep(&docs, &c.phi, &c.n_t, &ap, Output::None, true).is_err());
    }
}

#[test]
fn linear_theta_rows_are_distributions_and_naive_thetaless_conserves_mass() {
    let c = case(7, 20, 40, 10, 3);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let theta = linear_theta(&docs, &c.phi, &c.n_t).unwrap();
    for row in theta.chunks(3) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let naive = thetaless_estep(&docs, &c.phi, &c.n_t, Variant::Naive).unwrap();
    let total: f64 = naive.iter().sum();
    assert!((total - c.words.len() as f64).abs() < 1e-3);
    // The full variant's correction sums to zero over topics for every document.
    let full = thetaless_estep(&docs, &c.phi, &c.n_t, Variant::Full).unwrap();
    let full_total: f64 = full.iter().sum();
    assert!((full_total - total).abs() < 1e-2);
}

#[test]
fn phi_with_negative_or_nan_entries_is_refused() {
    let c = case(8, 3, 5, 4, 2);
    let docs = Documents::new(&c.words, None, &c.offsets, c.n_words).unwrap();
    let mut phi = c.phi.clone();
    phi[3] = -0.1;
    let p = ClassicParams {
        doc_passes: 1,
        theta_term: None,
    };
    assert!(artm_estep(&docs, &phi, 2, &p).is_err());
    phi[3] = f32::NAN;
    assert!(linear_theta(&docs, &phi, &c.n_t).is_err());
    assert!(artm_estep(&docs, &c.phi, 3, &p).is_err());
}

#[test]
fn a_full_reset_separates_the_two_sides_like_a_document_boundary() {
    let c = case(9, 1, 1, 12, 4);
    let words: Vec<u32> = (0..14).map(|i| (i * 5 % 12) as u32).collect();
    let one = [0i64, 14];
    let two = [0i64, 6, 14];
    let g = vec![0.3f32; 14];
    let mut reset = vec![0f32; 14];
    reset[6] = 1.0;
    for exclude_self in [true, false] {
        let with_reset = AttentiveParams {
            gamma_forward: &g,
            gamma_backward: &g,
            reset: Some(&reset),
            beta: 0.4,
            passes: 2,
            exclude_self,
            filter: Filter::POverNt,
        };
        let without = AttentiveParams {
            reset: None,
            ..with_reset.clone()
        };
        let joined = Documents::new(&words, None, &one, 12).unwrap();
        let split = Documents::new(&words, None, &two, 12).unwrap();
        let a =
            attentive_estep(&joined, &c.phi, &c.n_t, &with_reset, Output::Contexts, true).unwrap();
        let b = attentive_estep(&split, &c.phi, &c.n_t, &without, Output::Contexts, true).unwrap();
        for (x, y) in a.values.iter().zip(&b.values) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
        assert_eq!(a.n_wt, b.n_wt);
    }
}

#[test]
fn a_huge_document_keeps_the_mass_of_a_frequent_word() {
    // One document of 600,000 tokens of one word: f32 sums alone would lose mass.
    let n = 600_000usize;
    let words = vec![0u32; n];
    let offsets = [0i64, n as i64];
    let phi = vec![0.5f32, 0.5, 0.25, 0.75, 0.25, 0.25, 0.0, 0.0, 0.0];
    let phi: Vec<f32> = phi[..6].to_vec();
    let docs = Documents::new(&words, None, &offsets, 2).unwrap();
    let p = ClassicParams {
        doc_passes: 2,
        theta_term: None,
    };
    let out = artm_estep(&docs, &phi, 3, &p).unwrap();
    let total: f64 = out.n_wt.iter().sum();
    // f32 partial sums over at most 65,536 additions, spilled into f64: the worst case (one
    // word only) stays within a few 1e-4, where plain f32 sums would drift further.
    assert!((total - n as f64).abs() / (n as f64) < 1e-3, "{total}");
}
