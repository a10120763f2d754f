// The extension's parts, as commands and tests see them (the value `activate` returns).
import type { Approvals } from "./approvals";
import type { Backend } from "./client";
import type { AutoContext } from "./context";
import type { Focus } from "./focus";
import type { Review } from "./review";
import type { Lenses } from "./review/codelens";
import type { Decorations } from "./review/decorations";
import type { Diffs } from "./review/diff";
import type { ReviewTree } from "./review/tree";
import type { StatusBar } from "./statusbar";
import type { TaskView } from "./taskview";
import type { Tasks } from "./tasks";

export interface Ext {
  backend: Backend;
  focus: Focus;
  context: AutoContext;
  tasks: Tasks;
  taskView: TaskView;
  review: Review;
  decorations: Decorations;
  lenses: Lenses;
  diffs: Diffs;
  reviewTree: ReviewTree;
  approvals: Approvals;
  status: StatusBar;
}
