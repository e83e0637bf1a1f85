/** The exit guard: a launcher agent that stops a model's System.exit or Runtime.halt from ending the server. */
package deployer.guard;
