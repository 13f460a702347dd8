"""Linear regression as TF2-era tutorials wrote it for tf.compat.v1, unchanged but for the
import line (was: ``import tensorflow.compat.v1 as tf``)."""
import numpy as np

import graphc as tf

tf.compat.v1.disable_eager_execution()
tf.disable_v2_behavior()

flags = tf.app.flags
flags.DEFINE_integer("steps", 100, "Number of training steps.")
flags.DEFINE_float("learning_rate", 0.1, "Initial learning rate.")
flags.DEFINE_boolean("check_inputs", True, "Assert that the inputs are valid.")
flags.DEFINE_string("device", "/cpu:0", "Where to place the variables.")
FLAGS = flags.FLAGS


def main(argv):
    tf.logging.set_verbosity(tf.logging.INFO)
    tf.logging.info("arguments: %s", argv[1:])
    rng = np.random.RandomState(0)
    train_x = rng.rand(100, 1).astype(np.float32)
    train_y = 3.0 * train_x + 2.0 + 0.01 * rng.randn(100, 1).astype(np.float32)

    x = tf.placeholder("float", [None, 1], name="x")
    y = tf.placeholder("float", [None, 1], name="y")
    with tf.device(FLAGS.device):
        W = tf.Variable(tf.random_normal([1, 1], seed=1), name="weight")
        b = tf.Variable(tf.zeros([1]), name="bias")
    pred = tf.add(tf.matmul(x, W), b)

    checks = []
    if FLAGS.check_inputs:
        checks = [tf.assert_rank(x, 2),
                  tf.debugging.assert_non_negative(x, message="inputs must be >= 0")]
    with tf.control_dependencies(checks):
        cost = tf.reduce_mean(tf.squared_difference(pred, y))
    cost = tf.Print(cost, [cost], "first cost: ", first_n=1)
    optimizer = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(cost)

    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(FLAGS.steps):
            _, c = sess.run([optimizer, cost], feed_dict={x: train_x, y: train_y})
            if step % 100 == 0:
                tf.logging.info("step %d: cost=%.4f", step, c)
        weight, bias = sess.run([W, b])
        print("W=%.2f b=%.2f device=%s" % (weight[0, 0], bias[0], W.op.device))
        try:
            sess.run(optimizer, feed_dict={x: -train_x, y: train_y})
        except tf.errors.InvalidArgumentError as error:
            print("rejected:", error.message.split(" (op ")[0])
        print("W unchanged:", sess.run(W)[0, 0] == weight[0, 0])


if __name__ == "__main__":
    tf.app.run()
