"""EM and scoring shared by the HMM classifiers of :mod:`facefeat.classifiers.hmm`.

The floored :class:`hmmlearn.hmm.GaussianHMM` and its guarded EM run, the
initial models (segment or k-means++ state assignments and their moments),
the PCA and standardisation of the observations, and the batched Gaussian
log-densities and forward algorithm that score them.
"""

import logging
from contextlib import contextmanager

import numpy as np
from hmmlearn.hmm import GaussianHMM
from scipy.special import logsumexp
from sklearn.cluster import kmeans_plusplus
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

_COVARIANCE_TYPES = ("diag", "spherical", "full", "tied")

# Posterior mass below which a state counts as unvisited in an EM step: its
# parameters are kept rather than divided by ~0.
_EMPTY_STATE = 1e-8

# Sufficient statistics of hmmlearn's GaussianHMM that the batched E-step fills.
_BATCHED_STATS = frozenset({"nobs", "start", "trans", "post", "obs", "obs**2", "obs*obs.T"})


def _fit_standardiser(X, n_components, rng):
    """Fit the PCA (if it reduces) and standardisation of the observations X (N, d).

    The PCA keeps ``min(n_components, N)`` dimensions and is skipped when
    ``n_components`` is None or not below ``d``; its solver is seeded from
    ``rng``, which is drawn from only when there is a PCA.

    Returns
    -------
    pca : PCA or None
    scaler : StandardScaler
    Z : ndarray of shape (N, k)
        X reduced and standardised.
    """
    if n_components is not None and n_components < X.shape[1]:
        pca = PCA(n_components=min(n_components, len(X)), random_state=rng.randint(np.iinfo(np.int32).max)).fit(X)
        X = pca.transform(X)
    else:
        pca = None
    scaler = StandardScaler().fit(X)
    return pca, scaler, scaler.transform(X)


def _standardise(X, pca, scaler):
    """Observations X (N, d) through the PCA (or None) and standardisation of :func:`_fit_standardiser`."""
    if pca is not None:
        X = pca.transform(X)
    return scaler.transform(X)


class _HmmlearnNoise(logging.Filter):
    """Drops hmmlearn's log messages that do not apply to the guarded EM here."""

    def filter(self, record):
        # the variance floor makes EM not exactly monotone (changes ~1e-10
        # relative); small classes are expected and regularised by the floor
        return not record.getMessage().startswith(("Model is not converging", "Fitting a model with"))


@contextmanager
def _quiet_hmmlearn():
    logger = logging.getLogger("hmmlearn.base")
    noise = _HmmlearnNoise()
    logger.addFilter(noise)
    try:
        yield
    finally:
        logger.removeFilter(noise)


class _FlooredGaussianHMM(GaussianHMM):
    """GaussianHMM with a real variance floor and no NaN from unvisited states.

    hmmlearn's ``min_covar`` only regularises the initial covariances; EM can
    then shrink a variance towards zero (a state that captured one frame) or
    divide by zero (a state that captured none). After each M-step this model
    keeps the previous means and covariances of states with no posterior
    mass and floors the variances at ``min_covar`` (``diag``, ``spherical``)
    or adds ``min_covar`` to the diagonal (``full``, ``tied``, as
    :class:`sklearn.mixture.GaussianMixture` does with ``reg_covar``).
    """

    def _do_estep(self, X, lengths):
        """E-step batched over sequences of equal length (hmmlearn loops over them in Python).

        Gives the statistics of hmmlearn's log-domain E-step; other cases
        (unequal lengths, statistics this code does not know) go to hmmlearn.
        """
        stats = self._initialize_sufficient_statistics()
        lengths = None if lengths is None else np.asarray(lengths)
        if (lengths is None or len(np.unique(lengths)) != 1 or lengths[0] > len(lengths)
                or not set(stats) <= _BATCHED_STATS):
            # a few long sequences: hmmlearn's compiled loop over steps is faster
            return super()._do_estep(X, lengths)
        n, T, S = len(lengths), int(lengths[0]), self.n_components
        logb = _gaussian_log_density(X, self.means_, _emission_covariances(self)).reshape(n, T, S)
        with np.errstate(divide="ignore"):
            log_start, log_trans = np.log(self.startprob_), np.log(self.transmat_)
        alpha = np.empty((n, T, S))
        beta = np.zeros((n, T, S))
        alpha[:, 0] = log_start + logb[:, 0]
        for t in range(1, T):
            alpha[:, t] = logsumexp(alpha[:, t - 1, :, None] + log_trans, axis=1) + logb[:, t]
        for t in range(T - 2, -1, -1):
            beta[:, t] = logsumexp(log_trans + (logb[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
        logprob = logsumexp(alpha[:, -1], axis=1)
        with np.errstate(under="ignore"):
            post = np.exp(alpha + beta - logprob[:, None, None])
        stats["nobs"] += n
        if "s" in self.params:
            stats["start"] += post[:, 0].sum(axis=0)
        if "t" in self.params and T > 1:
            log_xi = (alpha[:, :-1, :, None] + log_trans + (logb[:, 1:] + beta[:, 1:])[:, :, None, :]
                      - logprob[:, None, None, None])
            with np.errstate(under="ignore"):
                stats["trans"] += np.exp(log_xi).sum(axis=(0, 1))
        post = post.reshape(n * T, S)
        if self._needs_sufficient_statistics_for_mean():
            stats["post"] += post.sum(axis=0)
            stats["obs"] += post.T @ X
        if self._needs_sufficient_statistics_for_covars():
            if self.covariance_type in ("spherical", "diag"):
                stats["obs**2"] += post.T @ X**2
            else:
                stats["obs*obs.T"] += np.einsum("ij,ik,il->jkl", post, X, X)
        return stats, float(logprob.sum())

    def _do_mstep(self, stats):
        old_means = self.means_.copy()
        old_covars = self._spherical_fix(self._covars_).copy()
        old_transmat = self.transmat_.copy()
        super()._do_mstep(stats)
        if "t" in self.params:
            # a state never left in the data keeps its transitions (hmmlearn leaves a zero row)
            unseen = ~np.isclose(self.transmat_.sum(axis=1), 1.0)
            self.transmat_[unseen] = old_transmat[unseen]
        empty = stats["post"] < _EMPTY_STATE
        if "m" in self.params and empty.any():
            self.means_[empty] = old_means[empty]
        if "c" in self.params:
            self._covars_ = self._spherical_fix(self._covars_)
            if self.covariance_type == "tied":
                if not np.all(np.isfinite(self._covars_)):
                    self._covars_ = old_covars
            elif empty.any():
                self._covars_[empty] = old_covars[empty]
            if self.covariance_type in ("diag", "spherical"):
                np.maximum(self._covars_, self.min_covar, out=self._covars_)
            else:
                idx = np.arange(self.n_features)
                self._covars_[..., idx, idx] += self.min_covar

    def _spherical_fix(self, covars):
        # hmmlearn 0.3 keeps spherical variances tiled to (S, k); one per state is meant
        if self.covariance_type == "spherical" and covars.ndim == 2:
            return covars[:, 0].copy()
        return covars


def _emission_covariances(model):
    """Covariances of a GaussianHMM: variances (S, k) for diag and spherical, else (S, k, k).

    Read from the stored ``_covars_``: hmmlearn 0.3 keeps spherical variances
    tiled to (S, k) after its own initialisation and M-step, which its
    ``covars_`` property then expands to the wrong shape.
    """
    cov = np.asarray(model._covars_)
    S, k = model.means_.shape
    if model.covariance_type == "diag":
        return cov
    if model.covariance_type == "spherical":
        return np.repeat(cov.reshape(S, -1)[:, :1], k, axis=1)
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (S, k, k))
    return cov


def _gaussian_log_density(Z, means, covars):
    """Log density of every row of Z under every state: (N, S).

    ``covars`` as from :func:`_emission_covariances`: variances (S, k) or
    covariance matrices (S, k, k).
    """
    n, k = Z.shape
    const = k * np.log(2 * np.pi)
    if covars.ndim == 2:
        var = covars
        prec = 1.0 / var
        maha = (Z**2) @ prec.T - 2 * Z @ (means * prec).T + np.sum(means**2 * prec, axis=1)
        return -0.5 * (const + np.sum(np.log(var), axis=1) + maha)
    out = np.empty((n, len(means)))
    for s, (mu, cov) in enumerate(zip(means, covars)):
        chol = np.linalg.cholesky(cov)
        sol = np.linalg.solve(chol, (Z - mu).T)  # (k, N)
        out[:, s] = -0.5 * (const + 2 * np.sum(np.log(np.diagonal(chol))) + np.sum(sol**2, axis=0))
    return out


def _sequence_log_likelihood(model, Z):
    """Forward algorithm over a batch of equal-length sequences Z (n, T, k): (n,)."""
    n, T, k = Z.shape
    logb = _gaussian_log_density(Z.reshape(n * T, k), model.means_, _emission_covariances(model))
    logb = logb.reshape(n, T, -1)
    with np.errstate(divide="ignore"):
        log_start = np.log(model.startprob_)
        log_trans = np.log(model.transmat_)
    alpha = log_start + logb[:, 0]
    for t in range(1, T):
        alpha = logsumexp(alpha[:, :, None] + log_trans[None], axis=1) + logb[:, t]
    return logsumexp(alpha, axis=1)


def _finite_model(model):
    return all(
        np.all(np.isfinite(a)) for a in (model.startprob_, model.transmat_, model.means_, model._covars_)
    )


def _positive_definite(covars):
    try:
        np.linalg.cholesky(covars)
    except np.linalg.LinAlgError:
        return False
    return True


def _model_parameters(model):
    """Copies of the start, transition, mean and covariance parameters of a GaussianHMM."""
    return model.startprob_.copy(), model.transmat_.copy(), model.means_.copy(), model._covars_.copy()


def _set_model_parameters(model, parameters):
    model.startprob_, model.transmat_, model.means_ = parameters[:3]
    model._covars_ = parameters[3]


def _run_em(model, X, lengths=None):
    """EM of a GaussianHMM from the parameters it holds, on X (N, k) cut into sequences of ``lengths``."""
    # a degenerate state may overflow or divide by zero before the caller's
    # finiteness checks reject the model; hmmlearn's warnings about the floor are noise
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"), _quiet_hmmlearn():
        model.fit(X, lengths=lengths)


def _em_problem(model):
    """Why a model fitted by EM cannot be used (non-finite or not positive definite), or None."""
    if not _finite_model(model):
        return "EM produced non-finite parameters"
    if model.covariance_type in ("full", "tied") and not _positive_definite(_emission_covariances(model)):
        return "EM produced a covariance that is not positive definite"
    return None


def _seed_states(Z, n_states, seed):
    """Initial state of each row of Z: nearest of k-means++ seeds (EM refines them)."""
    if n_states == 1:
        return np.zeros(len(Z), dtype=int)
    centers, _ = kmeans_plusplus(Z, n_states, random_state=seed)
    d2 = np.sum(Z**2, axis=1)[:, None] - 2 * Z @ centers.T + np.sum(centers**2, axis=1)
    return np.argmin(d2, axis=1)


def _state_moments(Z, assign, n_states, covariance_type, min_covar):
    """Means and covariances (hmmlearn layout) of the rows of Z grouped by state.

    States with fewer than two rows take the pooled mean and covariance.
    """
    k = Z.shape[1]
    mean_all = Z.mean(axis=0)
    cov_all = np.cov(Z.T, bias=True).reshape(k, k) if len(Z) > 1 else np.zeros((k, k))
    means = np.tile(mean_all, (n_states, 1))
    covs = np.tile(cov_all, (n_states, 1, 1))
    for s in range(n_states):
        rows = Z[assign == s]
        if len(rows) >= 1:
            means[s] = rows.mean(axis=0)
        if len(rows) >= 2:
            covs[s] = np.cov(rows.T, bias=True).reshape(k, k)
    eye = np.eye(k)
    if covariance_type == "diag":
        return means, np.maximum(np.diagonal(covs, axis1=1, axis2=2), min_covar)
    if covariance_type == "spherical":
        return means, np.maximum(np.diagonal(covs, axis1=1, axis2=2).mean(axis=1), min_covar)
    if covariance_type == "tied":
        pooled = sum(np.cov(Z[assign == s].T, bias=True).reshape(k, k) * np.sum(assign == s)
                     for s in range(n_states) if np.sum(assign == s) >= 2)
        pooled = pooled / len(Z) if np.ndim(pooled) else cov_all
        return means, pooled + min_covar * eye
    return means, covs + min_covar * eye


def _n_states(Z, n_states):
    """At most ``n_states``, never more than the distinct rows of Z (k-means needs them), at least 1."""
    return max(1, min(n_states, len(np.unique(Z, axis=0))))


def _uniform_chain(n_states):
    """Uniform start probabilities (S,) and transition matrix (S, S), an ergodic model's start."""
    return np.full(n_states, 1.0 / n_states), np.full((n_states, n_states), 1.0 / n_states)


def _initial_hmm(Z, assign, startprob, transmat, covariance_type, min_covar, **hmm_params):
    """A floored GaussianHMM holding its initial parameters, ready for :func:`_run_em`.

    Its emissions are the moments of the rows of Z (N, k) in each state of
    ``assign`` (N,) (see :func:`_state_moments`); ``hmm_params`` go to
    :class:`hmmlearn.hmm.GaussianHMM` (``n_iter``, ``random_state``, ...).
    """
    n_states = len(startprob)
    means, covars = _state_moments(Z, assign, n_states, covariance_type, min_covar)
    model = _FlooredGaussianHMM(n_components=n_states, covariance_type=covariance_type, min_covar=min_covar,
                                init_params="", **hmm_params)
    model.startprob_, model.transmat_, model.means_, model.covars_ = startprob, transmat, means, covars
    return model
