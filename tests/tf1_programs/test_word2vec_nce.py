"""The TF1 word2vec tutorial (``word2vec_basic.py``): a skip-gram model whose embeddings are
trained with ``tf.nn.nce_loss`` over ``tf.nn.embedding_lookup``, fed batches made with a
deque sliding over the corpus; unchanged but for the import line and a synthetic corpus
(sentences of words drawn from four topics, so related words share contexts)."""
import collections
import math
import random

import numpy as np

import graphc as tf

TOPICS, WORDS_PER_TOPIC = 4, 12
BATCH_SIZE, EMBEDDING_SIZE, SKIP_WINDOW, NUM_SKIPS, NUM_SAMPLED = 64, 16, 1, 2, 8
STEPS = 600


def make_corpus(rng, sentences=1200, length=8):
    """Each sentence uses the words of one topic, ``topic<t>_<k>`` (a Zipfian choice of k)."""
    words = []
    for _ in range(sentences):
        topic = rng.randint(TOPICS)
        picks = np.minimum(rng.zipf(1.3, size=length) - 1, WORDS_PER_TOPIC - 1)
        words += [f"topic{topic}_{k}" for k in picks]
    return words


def build_dataset(words, n_words):
    """The tutorial's: ids by frequency rank (0 is UNK), the data as ids, both dictionaries."""
    count = [["UNK", -1]]
    count.extend(collections.Counter(words).most_common(n_words - 1))
    dictionary = {word: index for index, (word, _) in enumerate(count)}
    data = [dictionary.get(word, 0) for word in words]
    count[0][1] = data.count(0)
    reversed_dictionary = dict(zip(dictionary.values(), dictionary.keys()))
    return data, count, dictionary, reversed_dictionary


data_index = 0


def generate_batch(data, batch_size, num_skips, skip_window):
    global data_index
    assert batch_size % num_skips == 0
    assert num_skips <= 2 * skip_window
    batch = np.ndarray(shape=(batch_size), dtype=np.int32)
    labels = np.ndarray(shape=(batch_size, 1), dtype=np.int32)
    span = 2 * skip_window + 1  # [ skip_window target skip_window ]
    buffer = collections.deque(maxlen=span)
    if data_index + span > len(data):
        data_index = 0
    buffer.extend(data[data_index:data_index + span])
    data_index += span
    for i in range(batch_size // num_skips):
        context_words = [w for w in range(span) if w != skip_window]
        words_to_use = random.sample(context_words, num_skips)
        for j, context_word in enumerate(words_to_use):
            batch[i * num_skips + j] = buffer[skip_window]
            labels[i * num_skips + j, 0] = buffer[context_word]
        if data_index == len(data):
            buffer.extend(data[0:span])
            data_index = span
        else:
            buffer.append(data[data_index])
            data_index += 1
    data_index = (data_index + len(data) - span) % len(data)
    return batch, labels


def test_word2vec_skip_gram_with_nce_loss_learns_topics():
    rng = np.random.RandomState(0)
    random.seed(0)
    words = make_corpus(rng)
    vocabulary_size = TOPICS * WORDS_PER_TOPIC + 1
    data, count, dictionary, reverse_dictionary = build_dataset(words, vocabulary_size)
    valid_examples = np.array([dictionary[f"topic{t}_0"] for t in range(TOPICS)])

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        with tf.name_scope("inputs"):
            train_inputs = tf.placeholder(tf.int32, shape=[BATCH_SIZE])
            train_labels = tf.placeholder(tf.int32, shape=[BATCH_SIZE, 1])
            valid_dataset = tf.constant(valid_examples, dtype=tf.int32)
        with tf.device("/cpu:0"):
            with tf.name_scope("embeddings"):
                embeddings = tf.Variable(
                    tf.random_uniform([vocabulary_size, EMBEDDING_SIZE], -1.0, 1.0))
                embed = tf.nn.embedding_lookup(embeddings, train_inputs)
            with tf.name_scope("weights"):
                nce_weights = tf.Variable(
                    tf.truncated_normal([vocabulary_size, EMBEDDING_SIZE],
                                        stddev=1.0 / math.sqrt(EMBEDDING_SIZE)))
            with tf.name_scope("biases"):
                nce_biases = tf.Variable(tf.zeros([vocabulary_size]))
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(
                tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, labels=train_labels,
                               inputs=embed, num_sampled=NUM_SAMPLED,
                               num_classes=vocabulary_size))
        with tf.name_scope("optimizer"):
            optimizer = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
        norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keepdims=True))
        normalized_embeddings = embeddings / norm
        valid_embeddings = tf.nn.embedding_lookup(normalized_embeddings, valid_dataset)
        similarity = tf.matmul(valid_embeddings, normalized_embeddings, transpose_b=True)
        init = tf.global_variables_initializer()

    assert embed.shape.as_list() == [BATCH_SIZE, EMBEDDING_SIZE]
    assert loss.op.name.startswith("loss/")
    averages = []
    with tf.Session(graph=graph) as session:
        init.run()
        average_loss = 0
        for step in range(1, STEPS + 1):
            batch_inputs, batch_labels = generate_batch(data, BATCH_SIZE, NUM_SKIPS,
                                                        SKIP_WINDOW)
            feed_dict = {train_inputs: batch_inputs, train_labels: batch_labels}
            _, loss_val = session.run([optimizer, loss], feed_dict=feed_dict)
            average_loss += loss_val
            if step % 100 == 0:
                averages.append(average_loss / 100)
                average_loss = 0
        sim = similarity.eval()
        final_embeddings = normalized_embeddings.eval()

    assert averages[-1] < 0.6 * averages[0], averages
    assert np.allclose(np.linalg.norm(final_embeddings, axis=1), 1.0, atol=1e-5)
    for i, word_id in enumerate(valid_examples):  # the nearest words share the topic
        topic = reverse_dictionary[word_id].split("_")[0]
        nearest = (-sim[i, :]).argsort()[1:6]
        same = sum(reverse_dictionary[k].startswith(topic) for k in nearest)
        assert same >= 4, (reverse_dictionary[word_id],
                           [reverse_dictionary[k] for k in nearest])
