# The reader's training run on a GPU machine (see train/reader.py); its outputs go to $OUT.
# A 200-step probe measures questions/s; the run then takes as many whole passes as fit in
# about BUDGET seconds (1 to 4), from the base model, SQuAD v1.1 train only.
# Prepared here first (the GPU machine has torch and transformers, not the data or the model):
#   python -m train.reader --groups-only --work .gpu/work --negatives 7
#   .gpu/base: the packaged all-MiniLM-L6-v2 folder (config, tokenizer files, safetensors in fp16)
# run there from the repository root with .gpu carried:  OUT=<folder> bash train/reader_gpu.sh
# and back here:  python -m train.reader --export-only --from-parts <OUT>/parts --frozen-layers 0
set -x
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
NEG=7 BUDGET=${BUDGET:-380}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())"
mkdir -p /tmp/work /tmp/probe && cp .gpu/work/*-$NEG.json.gz /tmp/work/ && cp .gpu/work/*-$NEG.json.gz /tmp/probe/
COMMON="--base .gpu/base --device cuda --frozen-layers 0 --batch-questions 32 --negatives $NEG --threads 8 --no-export"
FILTER='warn|UNEXPECTED|position_ids|^Notes|^- |^$'
set -o pipefail
python3 -m train.reader --work /tmp/probe $COMMON --questions 6400 --epochs 1 --checkpoint-minutes 99 2>&1 \
  | grep -v -i -E "$FILTER" | tee "$OUT/probe.log"
RATE=$(grep -o 'step 200/200 loss [0-9.]* [0-9.]*' "$OUT/probe.log" | awk '{print $5}')
EPOCHS=$(python3 -c "print(max(1, min(4, int(float('${RATE:-300}') * $BUDGET / 87000))))")
echo "probe: $RATE questions/s -> $EPOCHS epochs"
python3 -m train.reader --work /tmp/work $COMMON --epochs $EPOCHS --checkpoint-minutes 1.5 --max-minutes 7.5 \
  --parts "$OUT/parts" 2>&1 | grep -v -i -E "$FILTER" | tee "$OUT/train.log"
cp /tmp/work/log.jsonl "$OUT/"
ls -la "$OUT" "$OUT/parts"
