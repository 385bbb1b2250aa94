"""`dlbook chat`: talk to a chatbot trained by ``dlbook run 1.10.6`` (a prompt, a pipe, or --query)."""
import sys

import numpy as np

from dlbook.chat.inference import MODES
from dlbook.chat.store import load_chatbot
from dlbook.options import int_option, make_parser, random_seed
from dlbook.errors import UsageError


def build_parser():
    """The options of ``dlbook chat`` (1.10.6)."""
    parser = make_parser(prog="dlbook chat",
                         description="Talk to a chatbot trained by 'dlbook run 1.10.6'. Reads queries "
                                     "at the 'Query > ' prompt (or one per line from a pipe) and prints "
                                     "each reply on a line starting with '> '.")
    parser.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="the --output-dir of 'dlbook run 1.10.6'")
    parser.add_argument("--mode", choices=MODES, default="sample",
                        help="greedy: the most likely word each step (one reply); sample: several "
                             "replies, top-n sampled; beam: the K most likely distinct replies")
    parser.add_argument("--replies", type=int_option("replies"), default=3, metavar="K",
                        help="replies per query (sample and beam)")
    parser.add_argument("--top-n", type=int_option("top_n"), default=3, help="top-n for --mode sample")
    parser.add_argument("--beam-width", type=int_option("beam_width"), default=5,
                        help="beam width for --mode beam (at least K)")
    parser.add_argument("--query", default=None, help="answer this one query and exit")
    parser.add_argument("--scores", action="store_true",
                        help="print each reply's log-probability (always shown for --mode beam)")
    parser.add_argument("--seed", type=random_seed, default=None, help="random seed for --mode sample")
    return parser


def answer(bot, query, args, rng):
    """Print the replies to one query, one per line starting with '> '."""
    for words, score in bot.reply(query, mode=args.mode, n_replies=args.replies, top_n=args.top_n,
                                  beam_width=args.beam_width, rng=rng):
        line = "> " + (" ".join(words) if words else "(empty reply)")
        if args.scores or args.mode == "beam":
            line += f"   (log p = {score:.3f})"
        print(line, flush=True)


def main(argv=None):
    """``dlbook chat --checkpoint DIR [--mode ...] [--query TEXT]``."""
    args = build_parser().parse_args(argv)
    bot = load_chatbot(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    if args.query is not None:
        answer(bot, args.query, args, rng)
        return 0
    interactive = sys.stdin.isatty()
    if interactive:
        print("Type a query and press Enter; 'quit' or Ctrl-D ends.")
    while True:
        if interactive:
            try:
                query = input("Query > ")
            except EOFError:
                print()
                break
        else:
            query = sys.stdin.readline()
            if not query:
                break
            query = query.strip()
            print("Query >", query)
        if query.strip().lower() in ("quit", "exit"):
            break
        try:
            answer(bot, query, args, rng)
        except UsageError as exc:  # an empty query: say so and keep chatting
            print(f"({exc})", flush=True)
    return 0
