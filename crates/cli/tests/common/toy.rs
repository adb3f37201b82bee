//! The toy model of `tests/python/test_api.py`'s use-time case, for the CLI's reports.

/// The class source: version 2 of a model whose `predict` reads `_scale`, which only its
/// `fit` sets and version 1 never had.
pub(crate) const MODEL_V2: &str = "class Model:\n    def __init__(self, alpha=1.0):\n        self.alpha = alpha\n\n    def fit(self, X):\n        self.coef_ = sum(X)\n        self._scale = len(X)\n        return self\n\n    def predict(self, X):\n        scale = self.coef_ / self._scale\n        return [x * scale for x in X]\n";

/// `pickle.dumps(Model().fit([1, 2, 3]), 2)` of version 1 (CPython 3.11); the Python API test
/// `test_check_use_time_trouble_matches_python` checks the error text against a real load and
/// call in a subprocess.
pub(crate) const MODEL_V1_PICKLE: &[u8] = b"\x80\x02ctoymodel\nModel\nq\x00)\x81q\x01}q\x02(X\x05\x00\x00\x00alphaq\x03G?\xf0\x00\x00\x00\x00\x00\x00X\x05\x00\x00\x00coef_q\x04K\x06ub.";

/// A static target (`--site-packages DIR --python-version 3.11`) holding version 2 under
/// `dir/site-packages`; the arguments.
pub(crate) fn target(dir: &std::path::Path) -> Vec<String> {
    let site = dir.join("site-packages");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("toymodel.py"), MODEL_V2).unwrap();
    vec![
        "--site-packages".to_owned(),
        site.display().to_string(),
        "--python-version".to_owned(),
        "3.11".to_owned(),
    ]
}
