"""Training throughput (images/s, forward + backward + AdamW step) per network and input size.

Each configuration trains the network facefeat's classifiers train
(:func:`facefeat.deep.finetune.face_network` for the ImageNet backbones, every
layer trainable; :func:`facefeat.deep.compact.compact_net` for the compact CNN)
on a batch of gray astronaut faces, under float32 or bfloat16 autocast, in
channels-last memory, with a given number of torch threads. Augmentation is
timed on its own (it runs on the uint8 batch before the network). The numbers
chose the defaults of ``FineTunedCNN`` and ``CompactCNN`` and the recipes'
input sizes; no weights are needed (random initialisation trains at the same
speed).

    python benchmarks/train_speed.py --json benchmarks/results/train_speed.json
    python benchmarks/train_speed.py --networks mobilenet_v2 --sizes 64,96 --precisions bf16 --threads 1,2
"""

import argparse
import os
import platform
import sys
import time

import numpy as np
from _harness import make_faces, write_json

NETWORKS = ["compact", "mobilenet_v2", "efficientnet_lite0", "resnet18", "inception_v3"]


def build(name, size, n_classes=7):
    """The trainable network of a name for ``size`` px faces, on the CPU, in channels-last memory."""
    import torch

    from facefeat.deep.compact import compact_net
    from facefeat.deep.finetune import face_network

    # Inception-v3 as its recipe cuts it (its last stages would run on a 1 x 1 map of a 96 px input)
    layer = "Mixed_6e" if name == "inception_v3" else "penultimate"
    net = compact_net(n_classes) if name == "compact" else face_network(name, n_classes, weights=None, layer=layer,
                                                                         input_size=size)
    return net.train().to(memory_format=torch.channels_last)


def train_rate(net, faces, batch_size, bf16, steps, warmup=2):
    """Images per second of ``steps`` training steps (after ``warmup`` untimed ones)."""
    import torch

    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.from_numpy(faces[:batch_size]).float().div_(255).unsqueeze(1)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.arange(batch_size) % 7
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch_size / (time.perf_counter() - start)


def predict_rate(net, faces, batch_size, repeats=3):
    """Images per second of float32 inference (what ``predict`` runs)."""
    import torch

    net.eval()
    x = torch.from_numpy(faces[:batch_size]).float().div_(255).unsqueeze(1)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        net(x)
        start = time.perf_counter()
        for _ in range(repeats):
            net(x)
    net.train()
    return repeats * batch_size / (time.perf_counter() - start)


def augment_rate(faces, batch_size, repeats=5):
    """Images per second of :func:`facefeat.deep._training.augment_batch` on a uint8 batch."""
    import torch

    from facefeat.deep._training import augment_batch

    x = torch.from_numpy(faces[:batch_size]).unsqueeze(1)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(repeats):
        augment_batch(x, gen)
    return repeats * batch_size / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--sizes", default="48,64,96,112,160")
    parser.add_argument("--precisions", default="bf16,fp32", help="bf16 and/or fp32")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    import torch

    from facefeat.deep._classifier import amx

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, AMX: {amx()}; batch {args.batch_size}, "
          f"{args.steps} timed steps")
    print(f"{'network':<20}{'px':>5}{'prec':>6}{'thr':>5}{'train img/s':>13}{'predict img/s':>15}")
    for size in sizes:
        faces = make_faces(args.batch_size, size)
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            rows.append({"network": "augmentation", "size": size, "threads": threads,
                         "images_per_s": round(augment_rate(faces, args.batch_size), 1)})
            print(f"{'augmentation':<20}{size:>5}{'':>6}{threads:>5}{rows[-1]['images_per_s']:>13.1f}")
            for name in args.networks.split(","):
                if name == "inception_v3" and size < 75:
                    continue
                torch.manual_seed(0)
                net = build(name, size)
                pred = round(predict_rate(net, faces, args.batch_size), 1)
                for precision in args.precisions.split(","):
                    rate = train_rate(net, faces, args.batch_size, precision == "bf16", args.steps)
                    rows.append({"network": name, "size": size, "precision": precision, "threads": threads,
                                 "images_per_s": round(rate, 1), "predict_images_per_s": pred})
                    print(f"{name:<20}{size:>5}{precision:>6}{threads:>5}{rate:>13.1f}{pred:>15.1f}", flush=True)
    write_json(args.json, {"machine": {"python": sys.version.split()[0], "torch": torch.__version__,
                                       "cpus": os.cpu_count(), "amx_bf16": amx(), "platform": platform.platform()},
                           "batch_size": args.batch_size, "steps": args.steps, "rows": rows})
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
