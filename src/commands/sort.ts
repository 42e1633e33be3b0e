/**
 * (placeholder: being written)
 */
import type { HandlerMap } from "./registry.ts";

export const sortCommands: HandlerMap = {};
