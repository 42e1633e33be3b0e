/**
 * (placeholder: being written)
 */
import type { HandlerMap } from "./registry.ts";

export const pubsubCommands: HandlerMap = {};
