"""The streaming-metrics scenario run by graphc (tests/test_metrics.py) and by TF1
(tests/data/make_tf_metrics.py, which wrote tests/data/tf_metrics.npz with tensorflow 2.21's
tf.compat.v1): two seeded batches through every metric, then each value and two confusion
matrices. ``run`` takes the module (``graphc`` or ``tf.compat.v1``) and a session of it."""
import numpy as np

_RNG = np.random.RandomState(0)
BATCHES = [dict(y=_RNG.randint(0, 2, 12), p=_RNG.rand(12).astype(np.float32),
                w=_RNG.rand(12).astype(np.float32), c=_RNG.randint(0, 4, 12),
                cp=_RNG.randint(0, 4, 12), r=_RNG.randn(12, 3).astype(np.float32),
                rp=_RNG.randn(12, 3).astype(np.float32)) for _ in range(2)]


def _placeholders(tf):
    return dict(y=tf.placeholder(tf.int64, [None]), p=tf.placeholder(tf.float32, [None]),
                w=tf.placeholder(tf.float32, [None]), c=tf.placeholder(tf.int64, [None]),
                cp=tf.placeholder(tf.int64, [None]), r=tf.placeholder(tf.float32, [None, 3]),
                rp=tf.placeholder(tf.float32, [None, 3]), r2=tf.placeholder(tf.float32, [2, 3]))


def _metrics(tf, v):
    m = tf.metrics
    y, p, w, c, cp, r, rp = (v[k] for k in ("y", "p", "w", "c", "cp", "r", "rp"))
    yb = tf.greater(p, 0.5)
    unit, unit_p = tf.nn.l2_normalize(r, 1), tf.nn.l2_normalize(rp, 1)
    return {
        "accuracy": m.accuracy(y, tf.cast(yb, tf.int64)),
        "accuracy_w": m.accuracy(y, tf.cast(yb, tf.int64), weights=w),
        "mean": m.mean(p), "mean_w": m.mean(p, weights=w),
        "mean_tensor": m.mean_tensor(v["r2"], weights=w[:2, None]),
        "mae": m.mean_absolute_error(r, rp),
        "mse": m.mean_squared_error(r, rp, weights=w[:, None]),
        "rmse": m.root_mean_squared_error(r, rp),
        "mre": m.mean_relative_error(r, rp, normalizer=r),
        "pbelow": m.percentage_below(p, 0.3),
        "cos": m.mean_cosine_distance(unit, unit_p, dim=1),
        "tp": m.true_positives(y, yb), "fp": m.false_positives(y, yb, weights=w),
        "tn": m.true_negatives(y, yb), "fn": m.false_negatives(y, yb),
        "precision": m.precision(y, yb), "recall": m.recall(y, yb, weights=w),
        "tp_t": m.true_positives_at_thresholds(y, p, [0.2, 0.5, 0.8]),
        "prec_t": m.precision_at_thresholds(y, p, [0.2, 0.5, 0.8]),
        "rec_t": m.recall_at_thresholds(y, p, [0.2, 0.5, 0.8], weights=w),
        "auc": m.auc(y, p), "auc_pr": m.auc(y, p, curve="PR"),
        "auc_pr_ci": m.auc(y, p, curve="PR", summation_method="careful_interpolation"),
        "auc_min": m.auc(y, p, summation_method="minoring", num_thresholds=50),
        "auc_w": m.auc(y, p, weights=w),
        "miou": m.mean_iou(c, cp, 4), "miou_w": m.mean_iou(c, cp, 4, weights=w),
        "mpca": m.mean_per_class_accuracy(c, cp, 4),
    }


def run(tf, sess):
    """Every metric's update result after each batch and its value after both, the
    confusion matrices of the first batch, and the sorted local variable names."""
    v = _placeholders(tf)
    metrics = _metrics(tf, v)
    matrices = (tf.confusion_matrix(v["c"], v["cp"], num_classes=5, weights=v["w"]),
                tf.confusion_matrix(v["c"], v["cp"]))

    def feeds(batch):
        fed = {v[k]: batch[k] for k in ("y", "p", "w", "c", "cp", "r", "rp")}
        fed[v["r2"]] = batch["r"][:2]
        return fed
    sess.run(tf.local_variables_initializer())
    results = {}
    for i, batch in enumerate(BATCHES):
        updates = sess.run({k: update for k, (_, update) in metrics.items()}, feeds(batch))
        results.update({f"{k}/update{i}": np.asarray(u) for k, u in updates.items()})
    values = sess.run({k: value for k, (value, _) in metrics.items()})
    results.update({f"{k}/value": np.asarray(u) for k, u in values.items()})
    results["cm"], results["cm2"] = sess.run(matrices, feeds(BATCHES[0]))
    return results, sorted(var.op.name for var in tf.local_variables())
